# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: unproxied_services
short_description: The services on an external port Cloudflare's proxy does not pass
version_added: 1.0.0
description:
  - Of the C(nas_services) list, those whose external port (443 unless given) is not one of the HTTPS ports
    Cloudflare proxies (see P(homelab.nas.proxied_ports#filter)); visitors could not reach them through a
    proxied record.
author:
  - homelab.nas maintainers (@homelab-nas)
options:
  _input:
    description: Services, each optionally with C(external_port).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse services Cloudflare cannot reach
  ansible.builtin.assert:
    that: nas_services | homelab.nas.unproxied_services | length == 0
"""

RETURN = r"""
_value:
  description: The services that Cloudflare's proxy cannot reach, as given.
  type: list
  elements: dict
"""

from ansible_collections.homelab.nas.plugins.module_utils.nas_plan import unproxied_services


class FilterModule:
    def filters(self):
        return {"unproxied_services": unproxied_services}
