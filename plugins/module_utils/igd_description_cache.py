# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""The router's device description, kept between tasks and runs (docs/architecture.md, "Session reuse").

Every router_port_forward task needs the WAN connection service's type and control URL, which only the device
description says: without this, each task fetches it again (GET of the description URL) before its first SOAP
call. An entry is keyed by the description URL and, when the router was found by SSDP, the reply's USN, BOOTID
and CONFIGID (igd_client.discover_device), and holds nothing secret. It lives on the host the module runs on
(the controller, or the NAS when the task is delegated there): E(HOMELAB_NAS_ROUTER_CACHE_DIR), else
~/.cache/homelab.nas/router of the user the module runs as. Where that cannot be written the task runs as
without the cache. Staleness is the client's business (igd_client.IgdClient). Standard library only.
"""

from __future__ import annotations

import os

from ansible_collections.homelab.nas.plugins.module_utils.errors import HomelabError
from ansible_collections.homelab.nas.plugins.module_utils.keyed_cache import KeyedCache, cache_dir

DEFAULT_DIR = os.path.join("~", ".cache", "homelab.nas", "router")
ENV_DIR = "HOMELAB_NAS_ROUTER_CACHE_DIR"


class Descriptions:
    def __init__(self, directory=None):
        self._entries = KeyedCache(cache_dir(ENV_DIR, DEFAULT_DIR, directory), ".igd.json")

    def get(self, key):
        """{service: type, control_url, listing: whether GetListOfPortMappings answered}, or None."""
        data = self._entries.get(key) or {}
        service, control_url = data.get("service"), data.get("control_url")
        if isinstance(service, str) and service and isinstance(control_url, str) and "://" in control_url:
            return dict(service=service, control_url=control_url, listing=data.get("listing") is True)
        return None

    def put(self, key, entry):
        try:
            self._entries.put(key, entry)
        except (OSError, HomelabError):
            pass  # an unwritable home (a NAS account without one): no cache, the task runs as it would without

    def drop(self, key):
        try:
            self._entries.drop(key)
        except OSError:
            pass
