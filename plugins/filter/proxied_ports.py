# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: proxied_ports
short_description: The ports Cloudflare's proxy passes to an origin
version_added: 1.0.0
description:
  - The HTTPS (or HTTP) ports Cloudflare's proxy passes, from the one list the collection's modules use.
author:
  - homelab.nas maintainers (@homelab-nas)
options:
  _input:
    description: V(https) or V(http).
    type: str
    required: true
    choices: [https, http]
"""

EXAMPLES = r"""
- name: Say which ports work behind Cloudflare
  ansible.builtin.debug:
    msg: "use one of {{ 'https' | homelab.nas.proxied_ports | join(', ') }}"
"""

RETURN = r"""
_value:
  description: Port numbers, the usual one first.
  type: list
  elements: int
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_ports import HTTP_PORTS, HTTPS_PORTS


def proxied_ports(kind):
    ports = {"https": HTTPS_PORTS, "http": HTTP_PORTS}.get(str(kind).lower())
    if ports is None:
        raise AnsibleFilterError("proxied_ports: '%s' is neither https nor http" % kind)
    return list(ports)


class FilterModule:
    def filters(self):
        return {"proxied_ports": proxied_ports}
