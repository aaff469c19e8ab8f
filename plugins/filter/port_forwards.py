# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: port_forwards
short_description: Router port forwards for a list of published services
version_added: 1.0.0
description:
  - Turns the C(nas_services) list of the C(homelab.nas.exposure) role into the
    O(homelab.nas.router_port_forward#module:mappings) of M(homelab.nas.router_port_forward), one forward per
    distinct external port (443 unless given) of the services to publish (C(state=absent) ones are left out), to
    the same port on the NAS.
author:
  - homelab.nas maintainers (@homelab-nas)
options:
  _input:
    description: Services, each optionally with C(external_port).
    type: list
    elements: dict
    required: true
  internal_client:
    description: The NAS's LAN address; unset, the module uses the address of the host it runs on.
    type: str
"""

EXAMPLES = r"""
- name: Forward the published ports to the NAS
  homelab.nas.router_port_forward:
    mappings: "{{ nas_services | homelab.nas.port_forwards(internal_client='192.168.1.10') }}"
"""

RETURN = r"""
_value:
  description: One mapping per distinct external port, in the form M(homelab.nas.router_port_forward) takes.
  type: list
  elements: dict
"""

from ansible_collections.homelab.nas.plugins.module_utils.nas_plan import port_forwards


class FilterModule:
    def filters(self):
        return {"port_forwards": port_forwards}
