# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""Router modules' base: ApiModule with a UPnP IGD client. Standard library only, Python 3.8 (the module may run
on the NAS itself, where only DSM's Python is available)."""

from __future__ import annotations

from ansible_collections.homelab.nas.plugins.module_utils import igd_client
from ansible_collections.homelab.nas.plugins.module_utils.api_module import ApiModule
from ansible_collections.homelab.nas.plugins.module_utils.igd_description_cache import Descriptions


class RouterModule(ApiModule):
    """Options `igd_url`, `discovery_timeout`, `timeout` and `description_cache` come from the module's argument
    spec."""

    error_class = igd_client.UpnpError

    def make_client(self):
        p = self.params
        location, identity = p["igd_url"], ""
        if not location:
            location, identity = igd_client.discover_device(timeout=p["discovery_timeout"])
        self.partial["igd_url"] = location
        cache = Descriptions() if p["description_cache"] else None
        client = igd_client.IgdClient(location, timeout=p["timeout"], cache=cache, identity=identity)
        self.partial["service"] = client.service
        return client
