#!/usr/bin/python
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dsm_update_policy
short_description: DSM's automatic update mode and schedule
version_added: 1.0.0
description:
  - Sets how DSM installs updates (Control Panel > Update & Restore > Update Settings) and when.
author:
  - homelab.nas maintainers (@homelab-nas)
extends_documentation_fragment:
  - homelab.nas.dsm
  - homelab.nas.attributes
  - homelab.nas.attributes.full
options:
  mode:
    description:
      - V(security_only) installs security fixes automatically; V(important) also important bug fixes;
        V(all) every update; V(notify_only) installs nothing and only notifies.
    type: str
    choices: [security_only, important, all, notify_only]
    required: true
  days:
    description: Days of the week to install on (V(sun) ... V(sat) or the full names such as V(Monday), or V(daily)).
    type: list
    elements: str
    default: [daily]
  time:
    description: Time of day to install, C(HH:MM) in DSM's time zone.
    type: str
    default: "03:00"
"""

EXAMPLES = r"""
- name: Security updates automatically, Sunday night
  homelab.nas.dsm_update_policy:
    mode: security_only
    days: [sun]
    time: "03:30"
"""

RETURN = r"""
policy:
  description: The policy after the task (planned in check mode).
  returned: always
  type: dict
  sample: {mode: security_only, days: [sun], time: "03:30"}
"""

from ansible_collections.homelab.nas.plugins.module_utils.dsm_module import DsmModule
from ansible_collections.homelab.nas.plugins.module_utils.dsm_system import UPDATE_MODES, DsmSystem, update_policy


def main():
    module = DsmModule(
        argument_spec=dict(
            mode=dict(type="str", required=True, choices=list(UPDATE_MODES)),
            days=dict(type="list", elements="str", default=["daily"]),
            time=dict(type="str", default="03:00"),
        ),
        supports_check_mode=True,
    )

    def body(mod, want):
        system = DsmSystem(mod.client)
        return mod.converge(system.update_policy(), want, lambda: system.set_update_policy(want), dict(policy=want))

    module.run(body, validate=lambda p: update_policy(p["mode"], p["days"], p["time"]))


if __name__ == "__main__":
    main()
