# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: tunnel_ingress
short_description: Cloudflare Tunnel ingress rules for a list of published services
version_added: 1.0.0
description:
  - Turns the C(nas_services) list of the C(homelab.nas.exposure) role into the
    O(homelab.nas.cloudflare_tunnel#module:ingress) of M(homelab.nas.cloudflare_tunnel), one rule per service to
    publish (C(state=absent) ones are left out), its hostname to C(https://<origin>:<external port>) (DSM's reverse
    proxy, 443 unless given) with the hostname as the name the connector sends (SNI), DSM's certificate accepted
    as it is, and the service's name as the CNAME's comment.
author:
  - homelab.nas maintainers (@homelab-nas)
options:
  _input:
    description: Services, each with C(name), C(hostname) and optionally C(external_port).
    type: list
    elements: dict
    required: true
  origin:
    description: Where the connector reaches DSM (V(localhost) when it runs on the NAS with the host's network).
    type: str
    default: localhost
"""

EXAMPLES = r"""
- name: The services through the tunnel
  homelab.nas.cloudflare_tunnel:
    zone: example.com
    name: nas
    ingress: "{{ nas_services | homelab.nas.tunnel_ingress }}"
"""

RETURN = r"""
_value:
  description: One rule per service, with C(hostname), C(service), C(no_tls_verify), C(origin_server_name), C(comment).
  type: list
  elements: dict
"""

from ansible_collections.homelab.nas.plugins.module_utils.nas_plan import tunnel_ingress


class FilterModule:
    def filters(self):
        return {"tunnel_ingress": tunnel_ingress}
