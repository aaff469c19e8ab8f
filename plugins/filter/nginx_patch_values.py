# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: nginx_patch_values
short_description: The hostnames and networks the nginx patch script carries, parsed and re-rendered
version_added: 1.0.0
description:
  - Parses the C(nginx_patches) role's hostnames (RFC 1123, a leading C(*.) allowed) and C(set_real_ip_from)
    networks, and returns them as the patch script carries them - hostnames lower-cased without a trailing dot,
    each once, in order; networks as canonical CIDRs - so the script never holds a value as it was typed.
  - Fails naming the variable when a value is not of its grammar, or a network is wider than /8 (IPv4) or /16
    (IPv6) outside private address space (C(0.0.0.0/0), C(::/0)). The role checks the same rules first with
    P(homelab.nas.nginx_patch_errors#filter), which reports every mistake at once.
author:
  - homelab.nas maintainers (@homelab-nas)
options:
  _input:
    description: The hostnames (C(nginx_patches_hostnames)).
    type: list
    elements: str
    required: true
  real_ip_from:
    description: The networks nginx believes C(CF-Connecting-IP) from (C(nginx_patches_real_ip_from)).
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: The values as the script carries them
  ansible.builtin.debug:
    msg: "{{ ['Photos.Example.com.'] | homelab.nas.nginx_patch_values(real_ip_from=['173.245.48.0/20']) }}"
    # {hostnames: [photos.example.com], real_ip_from: [173.245.48.0/20]}
"""

RETURN = r"""
_value:
  description: C(hostnames) and C(real_ip_from), normalised.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.nas.plugins.module_utils.dsm_validate import InputError
from ansible_collections.homelab.nas.plugins.module_utils.nginx_patch import script_values


def nginx_patch_values(hostnames, real_ip_from=None):
    if not isinstance(hostnames, list) or not isinstance(real_ip_from or [], list):
        raise AnsibleFilterError("nginx_patch_values: give the hostnames and real_ip_from as lists")
    try:
        return script_values(hostnames, real_ip_from)
    except InputError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule:
    def filters(self):
        return {"nginx_patch_values": nginx_patch_values}
