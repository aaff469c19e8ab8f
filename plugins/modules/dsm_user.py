#!/usr/bin/python
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dsm_user
short_description: Enable or disable DSM accounts, such as the built-in admin and guest
version_added: 1.0.0
description:
  - Disables (or enables) existing DSM accounts. Hardening guides disable C(admin) and C(guest).
  - Refuses to disable the account the task itself logs in with.
author:
  - homelab.nas maintainers (@homelab-nas)
extends_documentation_fragment:
  - homelab.nas.dsm
  - homelab.nas.attributes
  - homelab.nas.attributes.full
options:
  name:
    description: Account names.
    type: list
    elements: str
    required: true
    aliases: [names]
  enabled:
    description: Whether the accounts may log in.
    type: bool
    required: true
"""

EXAMPLES = r"""
- name: Disable the built-in accounts
  homelab.nas.dsm_user:
    name: [admin, guest]
    enabled: false
"""

RETURN = r"""
users:
  description: Each account's state after the task (planned in check mode).
  returned: always
  type: dict
  sample: {admin: {enabled: false}, guest: {enabled: false}}
"""

from ansible_collections.homelab.nas.plugins.module_utils import dsm_validate as v
from ansible_collections.homelab.nas.plugins.module_utils.dsm_module import DsmModule
from ansible_collections.homelab.nas.plugins.module_utils.dsm_system import DsmSystem


def validate(params):
    names = sorted(set(params["name"]))
    if not params["enabled"] and params["username"] in names:
        raise v.InputError(
            "name: refusing to disable '%s', the account this task logs in with; log in as another "
            "administrator to disable it" % params["username"]
        )
    return {n: {"enabled": params["enabled"]} for n in names}


def main():
    module = DsmModule(
        argument_spec=dict(
            name=dict(type="list", elements="str", required=True, aliases=["names"]),
            enabled=dict(type="bool", required=True),
        ),
        supports_check_mode=True,
    )

    def body(mod, after):
        system = DsmSystem(mod.client)
        users = system.users()
        missing = [n for n in after if n not in users]
        if missing:
            mod.fail_json(msg="name: no account %s on this DSM" % ", ".join(missing))
        before = {n: users[n] for n in after}

        def apply():
            for name in after:
                if before[name] != after[name]:
                    system.set_user_enabled(name, after[name]["enabled"])

        return mod.converge(before, after, apply, dict(users=after))

    module.run(body, validate=validate)


if __name__ == "__main__":
    main()
