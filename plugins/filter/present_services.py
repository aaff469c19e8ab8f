# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: present_services
short_description: The services of a nas_services list that are to be published
version_added: 1.0.0
description:
  - Of the C(nas_services) list, every service not declared with C(state=absent), in their order.
  - A role that needs the published hostnames takes them from this list, so a service being removed is not
    treated as published.
author:
  - homelab.nas maintainers (@homelab-nas)
options:
  _input:
    description: Services, each optionally with C(state) (V(present), the default, or V(absent)).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: The hostnames being published
  ansible.builtin.debug:
    msg: "{{ nas_services | homelab.nas.present_services | map(attribute='hostname') | list }}"
"""

RETURN = r"""
_value:
  description: The services without C(state=absent).
  type: list
  elements: dict
"""

from ansible_collections.homelab.nas.plugins.module_utils.nas_plan import present_services


class FilterModule:
    def filters(self):
        return {"present_services": present_services}
