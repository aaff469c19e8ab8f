#!/usr/bin/python
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dsm_task
short_description: DSM Task Scheduler tasks (boot-up, shutdown and scheduled user-defined scripts)
version_added: 1.0.0
description:
  - Creates, changes, runs and deletes user-defined script tasks of DSM's Task Scheduler (Control Panel >
    Task Scheduler) over the Web API, as root or as a DSM user.
  - Boot-up and shutdown tasks are DSM's supported way to run something at every start; scheduled tasks run
    on a daily or weekly schedule, optionally repeated every few minutes or hours within the day.
  - Root-owned tasks need DSM's password re-check; the module confirms O(password) (the connection's own
    password) for each change, as DSM's UI asks the administrator to.
author:
  - homelab.nas maintainers (@homelab-nas)
extends_documentation_fragment:
  - homelab.nas.dsm
  - homelab.nas.attributes
  - homelab.nas.attributes.full
options:
  name:
    description:
      - The task's name. Boot-up and shutdown tasks are known by it alone; scheduled tasks by it and O(owner), so a
        new owner makes a new task. The module refuses a scheduled task's name DSM holds more than once.
    type: str
    required: true
  trigger:
    description: V(boot) runs at every boot-up, V(shutdown) at every shutdown, V(schedule) by O(schedule).
    type: str
    choices: [boot, shutdown, schedule]
    required: true
  owner:
    description:
      - The account the script runs as, V(root) or a DSM user. A root task can change anything on the NAS.
    type: str
    default: root
  state:
    description: Whether the task exists.
    type: str
    choices: [present, absent]
    default: present
  enabled:
    description: Whether DSM runs the task on its trigger.
    type: bool
    default: true
  script:
    description:
      - The bash script (DSM's "Run command"). Required with O(state=present). Not treated as a secret; keep
        secrets out of it.
    type: raw
  schedule:
    description: When a O(trigger=schedule) task runs, in DSM's time zone. Required for it; refused for the others.
    type: dict
    suboptions:
      frequency:
        description: V(daily) or V(weekly) (on O(schedule.days)).
        type: str
        choices: [daily, weekly]
        default: daily
      days:
        description: Days of a weekly schedule, V(sun) ... V(sat) or the full names such as V(Monday).
        type: list
        elements: str
      time:
        description: First run of the day, C(HH:MM).
        type: str
        default: "00:00"
      every_minutes:
        description: Repeat within the day every so many minutes (DSM offers 1, 5, 10, 15, 20 and 30).
        type: int
        choices: [1, 5, 10, 15, 20, 30]
      every_hours:
        description: Repeat within the day every so many hours (1-23). Not together with O(schedule.every_minutes).
        type: int
      until:
        description:
          - Last hour of the day (0-23) a repeat may start in. Defaults to 23 when the task repeats, else to the
            start hour, as DSM stores it.
        type: int
  run:
    description:
      - Run the task now, after any change, and wait for its result (RV(exit_code), RV(output)). A run counts as
        a change. Not done in check mode.
    type: bool
    default: false
  fail_on_error:
    description: With O(run), fail when the script's exit code is not 0.
    type: bool
    default: true
  run_timeout:
    description: With O(run), seconds to wait for the result.
    type: int
    default: 300
notes:
  - A run's output is read from DSM's task result; on a DSM that keeps no output for scheduled tasks the module
    returns the exit code with a warning.
  - A scheduled task's id is remembered on the controller (in O(session_cache_dir), keyed by DSM URL, owner and
    name; no secret), so the next task reads DSM's task list and the task itself in one compound request. The list
    still decides; a remembered id DSM no longer lists for that name, or whose task answers otherwise, is read
    again by the listed id and replaced.
"""

EXAMPLES = r"""
- name: Re-apply the nginx patch at every boot, as root
  homelab.nas.dsm_task:
    name: homelab nginx patch (boot)
    trigger: boot
    script: /volume1/homelab/nginx-patch.sh
    run: true

- name: And every five minutes, in case DSM regenerated its nginx files
  homelab.nas.dsm_task:
    name: homelab nginx patch (check)
    trigger: schedule
    schedule:
      frequency: daily
      time: "00:00"
      every_minutes: 5
    script: /volume1/homelab/nginx-patch.sh --check

- name: A weekly report as an ordinary user
  homelab.nas.dsm_task:
    name: weekly report
    trigger: schedule
    owner: alice
    schedule: {frequency: weekly, days: [mon, thu], time: "06:30"}
    script: /volume1/homes/alice/report.sh

- name: Remove a task
  homelab.nas.dsm_task:
    name: weekly report
    trigger: schedule
    owner: alice
    state: absent
"""

RETURN = r"""
task:
  description: The task after the module ran (planned in check mode); absent tasks are returned as null.
  returned: always
  type: dict
  sample: {name: homelab nginx patch (boot), trigger: boot, owner: root, enabled: true, script: /volume1/x.sh}
exit_code:
  description: The script's exit code, with O(run).
  returned: when the task was run
  type: int
  sample: 0
exit_type:
  description: How DSM says the script ended (for example C(normal), C(stop), C(by_signal)).
  returned: when the task was run
  type: str
output:
  description: What the script wrote (stdout and stderr), when DSM keeps it.
  returned: when the task was run
  type: str
"""

import re

from ansible_collections.homelab.nas.plugins.module_utils.dsm_module import DsmModule
from ansible_collections.homelab.nas.plugins.module_utils.dsm_tasks import (
    DAYS,
    TaskIds,
    TaskStore,
    schedule_from_dsm,
    schedule_to_dsm,
)
from ansible_collections.homelab.nas.plugins.module_utils.dsm_validate import InputError, weekday

SCHEDULE_SPEC = dict(
    frequency=dict(type="str", choices=["daily", "weekly"], default="daily"),
    days=dict(type="list", elements="str"),
    time=dict(type="str", default="00:00"),
    every_minutes=dict(type="int", choices=[1, 5, 10, 15, 20, 30]),
    every_hours=dict(type="int"),
    until=dict(type="int"),
)


def check_schedule(schedule):
    """-> (normalised schedule, None) or (None, message), before any request."""
    match = re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", (schedule.get("time") or "").strip())
    if not match:
        return None, "schedule.time: '%s' is not a time of day; use HH:MM, for example 03:00" % schedule.get("time")
    out = dict(schedule, time="%02d:%02d" % (int(match.group(1)), int(match.group(2))))
    days = [weekday(d) for d in schedule.get("days") or []]
    if out["frequency"] == "weekly":
        bad = [raw for d, raw in zip(days, schedule.get("days") or []) if d is None]
        if bad or not days:
            return None, "schedule.days: a weekly schedule needs days from sun, mon, tue, wed, thu, fri, sat"
        out["days"] = [d for d in DAYS if d in days]
    elif days:
        return None, "schedule.days: a daily schedule runs every day; use frequency: weekly to pick days"
    else:
        out["days"] = []
    if out.get("every_hours") is not None and not 1 <= out["every_hours"] <= 23:
        return None, "schedule.every_hours: %s is not 1-23" % out["every_hours"]
    if out.get("every_hours") and out.get("every_minutes"):
        return None, "schedule: every_minutes and every_hours exclude each other; DSM repeats by one of them"
    start = int(out["time"][:2])
    if out.get("until") is not None and not start <= out["until"] <= 23:
        return None, "schedule.until: %s must be an hour from the start hour (%d) to 23" % (out["until"], start)
    return out, None


def check_params(p):
    """Every input mistake, before the first request."""
    if not isinstance(p["name"], str) or not p["name"].strip():
        return "name: give the task's name"
    if not p["owner"] or not p["owner"].strip():
        return "owner: give root or a DSM account"
    if p["state"] == "absent":
        return None
    if not isinstance(p["script"], str) or not p["script"].strip():
        return "script: give the script as a string (state=present needs one)"
    if p["trigger"] == "schedule" and not p["schedule"]:
        return "schedule: a trigger=schedule task needs a schedule (frequency, time, ...)"
    if p["trigger"] != "schedule" and p["schedule"]:
        return "schedule: only trigger=schedule tasks have a schedule; a %s task runs at every %s" % (
            p["trigger"],
            "boot-up" if p["trigger"] == "boot" else "shutdown",
        )
    if p["run"] and p["run_timeout"] < 1:
        return "run_timeout: wait at least 1 second"
    return None


def public(task):
    """The module's view of a task (what diff and RV(task) show)."""
    if task is None:
        return None
    keys = ("name", "trigger", "owner", "enabled", "script") + (("schedule",) if task["trigger"] == "schedule" else ())
    out = {k: task.get(k) for k in keys}
    if task.get("id") is not None:
        out["id"] = task["id"]
    return out


def wanted(p):
    """The declared task in DSM's stored form, or None for state=absent; every mistake before a request."""
    problem = check_params(p)
    want = None
    if problem is None and p["state"] == "present":
        want = {
            "name": p["name"],
            "trigger": p["trigger"],
            "owner": p["owner"],
            "enabled": p["enabled"],
            "script": p["script"],
        }
        if p["trigger"] == "schedule":
            schedule, problem = check_schedule(p["schedule"])
            # Compared in DSM's stored form, read back through the same translation.
            want["schedule"] = schedule_from_dsm(schedule_to_dsm(schedule)) if schedule else None
    if problem:
        raise InputError(problem)
    return want


def run(mod, want):
    p = mod.params
    store = TaskStore(mod.client, p["password"], ids=TaskIds(mod.client))
    # Scheduled tasks are found by name and owner; event tasks by name alone (DSM's key).
    key = (p["trigger"], p["name"], p["owner"] if p["trigger"] == "schedule" else None)
    have = store.find(*key)
    if have and have["trigger"] != p["trigger"]:
        mod.fail(
            "name: '%s' is a %s task on DSM, not a %s task; delete it or pick another name"
            % (p["name"], have["trigger"], p["trigger"])
        )
    have_task = public(have)
    want_task = (
        None if want is None else dict(want, id=have["id"]) if have and have.get("id") is not None else dict(want)
    )
    before, after = dict(have_task or {}), dict(want_task or {})
    if p["run"] and want is not None:
        # Running the task is a change too: check mode reports it, and only apply() runs it.
        before["run"], after["run"] = "not run", "run now"

    def apply():
        updates = {}
        current = have
        if want is None:
            store.delete(have)
            return updates
        if have_task != want_task:
            new_id = store.save(want, have)
            current = store.find(*key)
            if current is None:
                mod.fail("DSM accepted the task '%s' but does not list it afterwards" % p["name"])
            updates["task"] = public(current)
            if new_id is not None:
                updates["task"]["id"] = new_id
        if "run" in after:
            outcome = store.run(current, p["run_timeout"])
            updates.update(exit_code=outcome["exit_code"], exit_type=outcome["exit_type"], output=outcome["output"])
            if outcome["warning"]:
                mod.warn(outcome["warning"])
            if outcome["exit_code"] != 0 and p["fail_on_error"]:
                mod.fail(
                    "task '%s' exited with %s (set fail_on_error: false to accept that)"
                    % (p["name"], outcome["exit_code"]),
                    **updates,
                )
        return updates

    return mod.converge(before, after, apply, result={"task": want_task})


def main():
    module = DsmModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            trigger=dict(type="str", required=True, choices=["boot", "shutdown", "schedule"]),
            owner=dict(type="str", default="root"),
            state=dict(type="str", choices=["present", "absent"], default="present"),
            enabled=dict(type="bool", default=True),
            script=dict(type="raw"),
            schedule=dict(type="dict", options=SCHEDULE_SPEC),
            run=dict(type="bool", default=False),
            fail_on_error=dict(type="bool", default=True),
            run_timeout=dict(type="int", default=300),
        ),
        supports_check_mode=True,
    )
    module.run(run, validate=wanted)


if __name__ == "__main__":
    main()
