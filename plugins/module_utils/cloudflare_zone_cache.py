# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""Zone ids by zone name, kept on the controller between tasks and runs (docs/architecture.md, "Session reuse").

Every Cloudflare task names its zone, and the API wants the zone's id: without this, each task looks it up again
(GET /zones?name=...). An entry is keyed by the API URL, the token's SHA-256 and the zone name, so another token
(which may not see the zone) looks it up itself; the token itself is never written. The files are replaced whole
(disk_cache.py).
"""

from __future__ import annotations

import hashlib
import os

from ansible_collections.homelab.nas.plugins.module_utils.disk_cache import DiskCache

DEFAULT_DIR = os.path.join("~", ".cache", "homelab.nas", "cloudflare")
ENV_DIR = "HOMELAB_NAS_CLOUDFLARE_CACHE_DIR"


def cache_dir(directory=None):
    """The Cloudflare modules' cache directory: the one given, else HOMELAB_NAS_CLOUDFLARE_CACHE_DIR, else
    ~/.cache/homelab.nas/cloudflare."""
    return os.path.expanduser(directory or os.environ.get(ENV_DIR) or DEFAULT_DIR)


class ZoneIds:
    def __init__(self, base_url, api_token, directory=None):
        self._cache = DiskCache(cache_dir(directory), "zone")
        self._prefix = "%s|%s|" % (base_url, hashlib.sha256(api_token.encode("utf-8")).hexdigest())

    def _key(self, name):
        return self._prefix + name.lower().rstrip(".")

    def get(self, name):
        data = self._cache.get(self._key(name))
        zone_id = data.get("id") if isinstance(data, dict) else None
        return zone_id if isinstance(zone_id, str) and zone_id else None

    def put(self, name, zone_id):
        self._cache.put(self._key(name), {"id": zone_id})

    def drop(self, name):
        self._cache.put(self._key(name), None)
