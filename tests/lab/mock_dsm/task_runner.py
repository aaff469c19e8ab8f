"""The lab's task runner: a task's script really runs, as `bash -c` in the lab's sandbox directory.

DSM runs a user-defined script with bash and keeps its exit code and its combined output (N4S4's
result_get_file sample shows bash's own error text in script_out). The lab cannot change user, so the
owner is only recorded and passed on (LAB_TASK_OWNER). LAB_ROOT names the sandbox (config `task_root`,
for example a DSM-shaped nginx tree from tests/lab/dsm_nginx), where a script finds /etc/nginx and
friends under "$LAB_ROOT". Schedules: DSM's schedule object (date_type 0, repeat_date 1001/1002/1003,
week_day, hour, minute, repeat_min / repeat_hour until last_work_hour).
"""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import time

DEFAULT_TIMEOUT = 60
OUTPUT_LIMIT = 64 * 1024  # keep the state file small; DSM's own log file has no such limit


def run_script(script, root, owner, task_name, timeout=DEFAULT_TIMEOUT):
    """-> dict(exit_code, exit_type, output, start, stop): what DSM's result APIs report."""
    os.makedirs(root, exist_ok=True)
    env = {"PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"), "HOME": root, "LANG": "C.UTF-8",
           "LAB_ROOT": root, "LAB_TASK_OWNER": owner, "LAB_TASK_NAME": task_name}
    start = time.time()
    try:
        done = subprocess.run(["bash", "-c", script], cwd=root, env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout, check=False)
        output, code = done.stdout, done.returncode
    except subprocess.TimeoutExpired as exc:
        output, code = exc.stdout or b"", -signal.SIGKILL
    if code < 0:  # killed by a signal: the signal's number, as a shell reports it
        result = dict(exit_code=-code, exit_type="by_signal")
    else:
        result = dict(exit_code=code, exit_type="normal")
    result.update(output=output[-OUTPUT_LIMIT:].decode("utf-8", "replace"), start=start, stop=time.time())
    return result


def clock(seconds):
    """DSM's "YYYY-MM-DD HH:MM:SS" local time."""
    return datetime.datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M:%S")


def fire_times(schedule, day):
    """The minutes of `day` (a date) at which a recurring schedule fires."""
    if int(schedule.get("date_type", 0)) != 0:
        wanted = str(schedule.get("date", ""))
        if wanted != "%d/%d/%d" % (day.year, day.month, day.day):
            return []
    else:
        days = {int(d) for d in str(schedule.get("week_day", "")).split(",") if d.strip().isdigit()}
        if (day.isoweekday() % 7) not in days:  # DSM's 0 is Sunday
            return []
    start = int(schedule.get("hour", 0)) * 60 + int(schedule.get("minute", 0))
    step = int(schedule.get("repeat_min", 0)) or int(schedule.get("repeat_hour", 0)) * 60
    if not step:
        return [start]
    last = int(schedule.get("last_work_hour", schedule.get("hour", 0))) * 60 + 59
    return list(range(start, last + 1, step))


def is_due(schedule, moment):
    """Whether the schedule fires in the minute `moment` (a datetime)."""
    return moment.hour * 60 + moment.minute in fire_times(schedule, moment.date())


def next_trigger(schedule, now=None):
    """DSM's next_trigger_time ("YYYY-MM-DD HH:MM") within the coming eight days, or "" when none."""
    now = now or datetime.datetime.now()
    for offset in range(9):
        day = now.date() + datetime.timedelta(days=offset)
        for minute in fire_times(schedule, day):
            moment = datetime.datetime.combine(day, datetime.time(minute // 60, minute % 60))
            if moment > now:
                return moment.strftime("%Y-%m-%d %H:%M")
    return ""
