# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: dns_records
short_description: Proxied Cloudflare DNS records for a list of published services
version_added: 1.0.0
description:
  - Turns the C(nas_services) list of the C(homelab.nas.exposure) role into the records
    M(homelab.nas.cloudflare_dns_records) is given, one proxied record per service to publish (C(state=absent)
    ones are left out), its hostname pointing at the public address, with the service's external port (443
    unless given) for the module's port check and the service's name as comment (the module stores it behind
    its owner mark, as C(homelab.nas:) and the name).
author:
  - homelab.nas maintainers (@homelab-nas)
options:
  _input:
    description: Services, each with C(name), C(hostname) and optionally C(external_port).
    type: list
    elements: dict
    required: true
  content:
    description: The address the records point to (the router's WAN address, or the declared public address).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Proxied DNS records, and those of removed services gone
  homelab.nas.cloudflare_dns_records:
    zone: example.com
    records: "{{ nas_services | homelab.nas.dns_records(content='203.0.113.7') }}"
    exclusive: true
"""

RETURN = r"""
_value:
  description: One record per service, with C(name), C(content), C(proxied), C(port) and C(comment).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.nas.plugins.module_utils.nas_plan import PlanError, dns_records


def _dns_records(services, content):
    try:
        return dns_records(services, content)
    except PlanError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule:
    def filters(self):
        return {"dns_records": _dns_records}
