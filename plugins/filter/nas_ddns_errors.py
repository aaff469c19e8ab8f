# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: nas_ddns_errors
short_description: Every mistake in the exposure role's DDNS variables, before the NAS's DDNS task is rendered
version_added: 1.0.0
description:
  - Checks C(exposure_ddns) (V(cloudflare), V(synology) or V(none)) and, for V(cloudflare), each variable that
    reaches the root script on the NAS to its grammar - the token (Cloudflare's token alphabet; never repeated in
    a message), the zone and the hostnames in it (RFC 1123), the zone ID, the API and router URLs, the paths on
    the NAS, the Task Scheduler repeat and the timeout - and returns one message per mistake, each naming the
    variable and the fix. An empty list means the variables are sound.
  - Pure; it reads nothing. The C(exposure) role asserts it before its first task that writes.
author:
  - homelab.nas maintainers (@homelab-nas)
options:
  _input:
    description: The role's variables by name (C(exposure_ddns*), C(nas_zone)); a variable left out is not checked.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse every mistake at once
  ansible.builtin.assert:
    that: errors | length == 0
    fail_msg: "{{ errors }}"
  vars:
    errors: "{{ {'exposure_ddns': 'cloudflare', 'nas_zone': 'example.com'} | homelab.nas.nas_ddns_errors }}"
"""

RETURN = r"""
_value:
  description: Messages, one per mistake; empty when there is none.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.nas.plugins.module_utils.nas_ddns import ddns_errors


def nas_ddns_errors(declared):
    if not isinstance(declared, dict):
        raise AnsibleFilterError("nas_ddns_errors: give a mapping of the exposure_ddns variables")
    return ddns_errors(declared)


class FilterModule:
    def filters(self):
        return {"nas_ddns_errors": nas_ddns_errors}
