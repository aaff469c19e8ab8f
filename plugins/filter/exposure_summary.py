# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: exposure_summary
short_description: What a site.yml run left exposed, as lines a person reads
version_added: 1.0.0
description:
  - The summary the C(homelab.nas.verify) role prints last, made from the declared state and what the role's
    probes saw (each published URL and its backend with what a visitor got, Cloudflare's SSL mode and HSTS,
    the origin and edge certificates with their expiry, Authenticated Origin Pulls, the router's forwards,
    the DSM firewall policy, 2-step verification, and what is left to do by hand).
  - What the probes saw wins over what was declared; what the run did not manage or could not see is said so.
author:
  - homelab.nas maintainers (@homelab-nas)
options:
  _input:
    description:
      - A dictionary with the keys C(services) (C(nas_services)), C(zone_settings), C(hsts), C(origin_pulls),
        C(public_address), C(router) (the result of M(homelab.nas.router_port_forward)), C(manage_router),
        C(firewall), C(lan_networks), C(lan_ports), C(dsm_port), C(two_factor), C(visitors) and C(attackers)
        (the C(probes) of the verify role's M(homelab.nas.tls_probe_info) tasks). Missing keys mean "not
        managed by this run".
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: What is now exposed
  ansible.builtin.debug:
    msg: "{{ {'services': nas_services, 'origin_pulls': true, 'firewall': true} | homelab.nas.exposure_summary }}"
"""

RETURN = r"""
_value:
  description: The summary, one line per list item.
  type: list
  elements: str
"""

from ansible_collections.homelab.nas.plugins.module_utils.nas_summary import exposure_summary


class FilterModule:
    def filters(self):
        return {"exposure_summary": exposure_summary}
