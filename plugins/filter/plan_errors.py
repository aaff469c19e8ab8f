# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: plan_errors
short_description: Every mistake in the site play's declared state, before anything is written
version_added: 1.0.0
description:
  - Checks the variables of the exposure, tls and hardening roles together - names inside C(nas_zone) and
    covered by the certificate, unique service names and hostnames, ports, update time and days, DoS interfaces,
    HSTS, LAN networks, the public address and the router's WAN address - and returns one message per mistake,
    each naming the variable and the fix. An empty list means the plan is sound.
  - Pure; it reads nothing. C(playbooks/site.yml) asserts it in its pre_tasks.
author:
  - homelab.nas maintainers (@homelab-nas)
options:
  _input:
    description: The declared variables, by name (nas_zone, nas_services, tls_*, hardening_*, exposure_*, dsm_*).
    type: dict
    required: true
  router:
    description: What a read-only probe of the router found (M(homelab.nas.router_port_forward) in check mode).
    type: dict
"""

EXAMPLES = r"""
- name: Refuse every mistake at once
  ansible.builtin.assert:
    that: errors | length == 0
    fail_msg: "{{ errors }}"
  vars:
    errors: "{{ {'nas_zone': nas_zone, 'nas_services': nas_services} | homelab.nas.plan_errors }}"
"""

RETURN = r"""
_value:
  description: Messages, one per mistake; empty when there is none.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.nas.plugins.module_utils.nas_validate import plan_errors as _plan_errors


def plan_errors(declared, router=None):
    if not isinstance(declared, dict):
        raise AnsibleFilterError("plan_errors: give a mapping of the declared variables")
    return _plan_errors(declared, router=router)


class FilterModule:
    def filters(self):
        return {"plan_errors": plan_errors}
