# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: nas_ddns_config
short_description: The values the NAS's Cloudflare DDNS script carries, parsed and re-rendered
version_added: 1.0.0
description:
  - From the exposure role's DDNS variables (checked with C(homelab.nas.nas_ddns_errors) first), the settings
    the scheduled script carries as JSON - the zone, its ID, the hostnames (lower-cased, no trailing dot, each
    once), the URLs, the paths on the NAS, the timeout - and the token's SHA-256, never the token itself, so the
    script can tell whether the root-only token file holds the declared token.
  - Fails naming every mistake when the variables are not sound.
author:
  - homelab.nas maintainers (@homelab-nas)
options:
  _input:
    description: The role's variables by name (C(exposure_ddns*), C(nas_zone)).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: The script's settings
  ansible.builtin.debug:
    msg: "{{ exposure_ddns_declared | homelab.nas.nas_ddns_config }}"
"""

RETURN = r"""
_value:
  description: The settings, with C(token_sha256) in place of the token.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.nas.plugins.module_utils.dsm_validate import InputError
from ansible_collections.homelab.nas.plugins.module_utils.nas_ddns import ddns_config


def nas_ddns_config(declared):
    if not isinstance(declared, dict):
        raise AnsibleFilterError("nas_ddns_config: give a mapping of the exposure_ddns variables")
    try:
        return ddns_config(declared)
    except InputError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {"nas_ddns_config": nas_ddns_config}
