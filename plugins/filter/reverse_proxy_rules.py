# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: reverse_proxy_rules
short_description: DSM reverse-proxy rules from a list of published services
version_added: 1.0.0
description:
  - Turns the C(nas_services) list of the C(homelab.nas.exposure) role into the
    O(homelab.nas.dsm_reverse_proxy#module:rules)
    of M(homelab.nas.dsm_reverse_proxy), one rule per service to publish (C(state=absent) ones are left out), with
    its hostname on its external port (443 unless given) forwarded to its backend.
author:
  - homelab.nas maintainers (@homelab-nas)
options:
  _input:
    description: Services, each with C(name), C(hostname), C(backend_port) and optionally C(backend_host),
      C(backend_protocol), C(external_port), C(websocket).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Publish the services through DSM's reverse proxy
  homelab.nas.dsm_reverse_proxy:
    rules: "{{ nas_services | homelab.nas.reverse_proxy_rules }}"
"""

RETURN = r"""
_value:
  description: One rule per service, in the form M(homelab.nas.dsm_reverse_proxy) takes.
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.nas.plugins.module_utils.nas_plan import PlanError, reverse_proxy_rules


def _reverse_proxy_rules(services):
    try:
        return reverse_proxy_rules(services)
    except PlanError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule:
    def filters(self):
        return {"reverse_proxy_rules": _reverse_proxy_rules}
