#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dsm_update_policy
short_description: DSM's automatic update mode and schedule
version_added: 0.1.0
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
    description: Days of the week to install on (V(sun) ... V(sat), or V(daily)).
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

import re

from ansible_collections.homelab.nas.plugins.module_utils.dsm_module import DsmModule

API = "SYNO.Core.Upgrade.Setting"
MODES = {"security_only": "hotfix-security", "important": "hotfix", "all": "smart", "notify_only": "notify"}
DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]


def to_dsm(mode, days, time_of_day):
    hour, minute = (int(x) for x in time_of_day.split(":"))
    week_day = ",".join(str(DAYS.index(d)) for d in days)
    return {"autoupdate_enable": mode != "notify_only", "autoupdate_type": MODES[mode],
            "schedule": {"week_day": week_day, "hour": hour, "minute": minute}}


def from_dsm(setting):
    mode = next((m for m, t in MODES.items() if t == setting.get("autoupdate_type")), None)
    if not setting.get("autoupdate_enable"):
        mode = "notify_only"
    schedule = setting.get("schedule") or {}
    days = [DAYS[int(d)] for d in str(schedule.get("week_day", "")).split(",") if d.strip().isdigit()]
    return {"mode": mode, "days": days, "time": "%02d:%02d" % (int(schedule.get("hour", 0)), int(schedule.get("minute", 0)))}


def main():
    module = DsmModule(
        argument_spec=dict(mode=dict(type="str", required=True, choices=list(MODES)),
                           days=dict(type="list", elements="str", default=["daily"]),
                           time=dict(type="str", default="03:00")),
        supports_check_mode=True,
    )
    p = module.params
    raw = [d.strip().lower() for d in p["days"]]
    days = list(DAYS) if "daily" in raw else [d[:3] for d in raw]
    bad = [original for d, original in zip(days, p["days"]) if d not in DAYS]
    if bad or not days:
        module.fail_json(msg="days: %s; use sun, mon, tue, wed, thu, fri, sat or daily"
                             % ("'%s' is not a day" % "', '".join(bad) if bad else "none given"))
    days = [d for d in DAYS if d in days]
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", p["time"].strip())
    if not match:
        module.fail_json(msg="time: '%s' is not a time of day; use HH:MM, for example 03:00" % p["time"])
    want = {"mode": p["mode"], "days": days, "time": "%02d:%02d" % (int(match.group(1)), int(match.group(2)))}

    def body(mod):
        have = from_dsm(mod.client.read(API, "get", 2))
        result = dict(changed=have != want, policy=want)
        if mod._diff:
            result["diff"] = dict(before=have, after=want)
        if result["changed"] and not mod.check_mode:
            # DSM wants the whole object.
            mod.client.write(API, "set", 2, **to_dsm(want["mode"], want["days"], want["time"]))
        return result

    module.run(body)


if __name__ == "__main__":
    main()
