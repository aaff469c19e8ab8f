# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: nginx_patch_errors
short_description: Every mistake in the nginx_patches role's variables, before the patch script is rendered
version_added: 1.0.0
description:
  - Checks each variable that reaches the patch script or DSM's nginx to its grammar - hostnames (RFC 1123, a
    leading C(*.) allowed), C(set_real_ip_from) networks as CIDRs no wider than /8 (IPv4) or /16 (IPv6) outside
    private address space (so not C(0.0.0.0/0) or C(::/0)), extra directives as one nginx directive on one
    line, C(ssl_verify_client) as V(on), V(optional) or V(off), the DSM layout, the Task Scheduler repeat, the
    commands and paths, and the origin-pull CA as PEM certificates only - and returns one message per mistake,
    each naming the variable and the fix. An empty list means the variables are sound.
  - With C(tls_authenticated_origin_pulls) given as V(false), refuses C(nginx_patches_verify_client=on), which
    would make nginx refuse every visitor Cloudflare sends.
  - Pure; it reads nothing. The C(nginx_patches) role asserts it before its first task that writes.
author:
  - homelab.nas maintainers (@homelab-nas)
options:
  _input:
    description: The role's variables by name (C(nginx_patches_*)); a variable left out is not checked.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse every mistake at once
  ansible.builtin.assert:
    that: errors | length == 0
    fail_msg: "{{ errors }}"
  vars:
    errors: "{{ {'nginx_patches_hostnames': ['photos.example.com']} | homelab.nas.nginx_patch_errors }}"
"""

RETURN = r"""
_value:
  description: Messages, one per mistake; empty when there is none.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.nas.plugins.module_utils.nginx_patch import nginx_patch_errors as _errors


def nginx_patch_errors(declared):
    if not isinstance(declared, dict):
        raise AnsibleFilterError("nginx_patch_errors: give a mapping of the nginx_patches variables")
    return _errors(declared)


class FilterModule:
    def filters(self):
        return {"nginx_patch_errors": nginx_patch_errors}
