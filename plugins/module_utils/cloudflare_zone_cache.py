# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""Zone ids by zone name, kept on the controller between tasks and runs (docs/architecture.md, "Session reuse").

Every Cloudflare task names its zone, and the API wants the zone's id: without this, each task looks it up again
(GET /zones?name=...). An entry is keyed by the API URL, the token's SHA-256 and the zone name, so another token
(which may not see the zone) looks it up itself; the token itself is never written. The files are replaced whole
(file_lock.write_atomic), 0600 in a 0700 directory, so no lock is needed: two tasks writing one entry write the same.
"""

from __future__ import annotations

import hashlib
import os

from ansible_collections.homelab.nas.plugins.module_utils.keyed_cache import KeyedCache, cache_dir

DEFAULT_DIR = os.path.join("~", ".cache", "homelab.nas", "cloudflare")
ENV_DIR = "HOMELAB_NAS_CLOUDFLARE_CACHE_DIR"


def cloudflare_cache_dir(directory=None):
    """The Cloudflare modules' cache directory: the one given, else HOMELAB_NAS_CLOUDFLARE_CACHE_DIR, else
    ~/.cache/homelab.nas/cloudflare."""
    return cache_dir(ENV_DIR, DEFAULT_DIR, directory)


class ZoneIds:
    def __init__(self, base_url, api_token, directory=None):
        self._entries = KeyedCache(cloudflare_cache_dir(directory), ".zone.json")
        self.directory = self._entries.directory
        self._prefix = "%s|%s|" % (base_url, hashlib.sha256(api_token.encode("utf-8")).hexdigest())

    def _key(self, name):
        return self._prefix + name.lower().rstrip(".")

    def get(self, name):
        data = self._entries.get(self._key(name)) or {}
        zone_id = data.get("id")
        return zone_id if isinstance(zone_id, str) and zone_id else None

    def put(self, name, zone_id):
        self._entries.put(self._key(name), {"id": zone_id})

    def drop(self, name):
        self._entries.drop(self._key(name))
