# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: firewall_rules
short_description: The hardening firewall's allow rules for the LAN and Cloudflare
version_added: 1.0.0
description:
  - Builds the O(homelab.nas.dsm_firewall#module:rules) of M(homelab.nas.dsm_firewall) for a default-deny
    firewall. Each LAN network reaches DSM (its default ports, O(dsm_port) and O(nas_port)), the extra
    O(lan_ports) and the published ports; each of Cloudflare's ranges reaches the published ports only; the
    controller (O(controller_address)) reaches DSM's ports even from outside the LAN networks.
author:
  - homelab.nas maintainers (@homelab-nas)
options:
  _input:
    description: LAN networks (CIDRs) allowed to reach DSM.
    type: list
    elements: str
    required: true
  services:
    description:
      - The published services (C(nas_services)); their external ports (443 unless given) are published.
      - Services with C(state=absent) publish nothing.
    type: list
    elements: dict
    default: []
  dsm_port:
    description: The port the controller reaches DSM on.
    type: int
    default: 5001
  nas_port:
    description:
      - The port DSM receives the controller's connections on, when a port translation sits between them (a
        router forwarding O(dsm_port) to another port); DSM's firewall sees this one.
    type: int
  controller_address:
    description:
      - The address DSM sees the controller come from (IPv4 or IPv6). When no LAN network holds it, a first rule
        lets it reach DSM's ports (O(dsm_port), O(nas_port) and DSM's defaults).
    type: str
  lan_ports:
    description: Further ports or service names (V(smb), V(ssh)...) the LAN may reach.
    type: list
    elements: raw
    default: []
  cloudflare_ranges:
    description: Cloudflare's ranges (M(homelab.nas.cloudflare_ips_info)); no rule for them when nothing is published.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Firewall limited to the LAN and Cloudflare
  homelab.nas.dsm_firewall:
    enabled: true
    default_action: deny
    rules: >-
      {{ ['192.168.1.0/24'] | homelab.nas.firewall_rules(services=nas_services, dsm_port=5001,
                                                          lan_ports=['smb'], cloudflare_ranges=cloudflare.all) }}
"""

RETURN = r"""
_value:
  description: Allow rules in the form M(homelab.nas.dsm_firewall) takes, LAN rules first.
  type: list
  elements: dict
"""

from ansible_collections.homelab.nas.plugins.module_utils.nas_plan import firewall_rules


class FilterModule:
    def filters(self):
        return {"firewall_rules": firewall_rules}
