#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dsm_user
short_description: Enable or disable DSM accounts, such as the built-in admin and guest
version_added: 0.1.0
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

import datetime

from ansible_collections.homelab.nas.plugins.module_utils.dsm_module import DsmModule

API = "SYNO.Core.User"


def is_enabled(expired, today=None):
    """DSM keeps an account's state in `expired`: "normal", "now" (disabled) or an expiry date YYYY/M/D."""
    if expired in (None, "", "normal"):
        return True
    if expired == "now":
        return False
    try:
        year, month, day = (int(part) for part in str(expired).split("/"))
        until = datetime.date(year, month, day)
    except ValueError:
        return True  # a value this module does not know; DSM still lets the account log in as far as we can tell
    return until >= (today or datetime.date.today())


def main():
    module = DsmModule(
        argument_spec=dict(name=dict(type="list", elements="str", required=True, aliases=["names"]),
                           enabled=dict(type="bool", required=True)),
        supports_check_mode=True,
    )
    names = sorted(set(module.params["name"]))
    if not module.params["enabled"] and module.params["username"] in names:
        module.fail_json(msg="name: refusing to disable '%s', the account this task logs in with; log in as another "
                             "administrator to disable it" % module.params["username"])

    def body(mod):
        users = {u["name"]: u for u in mod.client.read(API, "list", 1, offset=0, limit=-1,
                                                       additional=["expired"]).get("users", [])}
        missing = [n for n in names if n not in users]
        if missing:
            mod.fail_json(msg="name: no account %s on this DSM" % ", ".join(missing))
        before = {n: {"enabled": is_enabled(users[n].get("expired"))} for n in names}
        after = {n: {"enabled": mod.params["enabled"]} for n in names}
        result = dict(changed=before != after, users=after)
        if mod._diff:
            result["diff"] = dict(before=before, after=after)
        if not mod.check_mode:
            for n in names:
                if before[n] != after[n]:
                    mod.client.write(API, "set", 1, name=n, expired="normal" if mod.params["enabled"] else "now")
        return result

    module.run(body)


if __name__ == "__main__":
    main()
