"""The mock DSM's Task Scheduler: root needs the password re-check, and scripts really run (at a lab
boot, a lab tick and over the API), in the sandbox, with exit code and output served back."""

from __future__ import annotations

import json
import time

import pytest

from tests.lab.mock_dsm.seed import LAB_PASSWORD
from tests.unit.lab.test_mock_dsm_fidelity import Raw

SCHEDULE = {"date_type": 0, "repeat_date": 1001, "week_day": "0,1,2,3,4,5,6", "monthly_week": "[]",
            "hour": 3, "minute": 0, "repeat_hour": 0, "repeat_min": 5, "last_work_hour": 23}


@pytest.fixture
def dsm(dsm_lab, tmp_path):
    dsm_lab.configure(task_root=str(tmp_path))
    return Raw(dsm_lab).login()


def confirm(dsm):
    return dsm.call("SYNO.Core.User.PasswordConfirm", "auth", 2, password=LAB_PASSWORD)["data"]["SynoConfirmPWToken"]


def boot_task(dsm, name, script, root=True, **extra):
    api = "SYNO.Core.EventScheduler.Root" if root else "SYNO.Core.EventScheduler"
    params = dict(task_name=json.dumps(name), owner=json.dumps({"0": "root"} if root else {"1028": "alice"}),
                  event='"bootup"', depend_on_task='""', enable="true", notify_enable="false", notify_mail='""',
                  notify_if_error="false", operation=json.dumps(script), operation_type='"script"')
    params.update(extra)
    if root and "SynoConfirmPWToken" not in params:
        params["SynoConfirmPWToken"] = confirm(dsm)
    return dsm.post("entry.cgi", dict(params, api=api, method="create", version="1"))


def test_root_boot_task_needs_a_confirmed_password(dsm):
    assert dsm.call("SYNO.Core.User.PasswordConfirm", "auth", 2, password="wrong")["error"]["code"] == 400
    assert boot_task(dsm, "t", "true", SynoConfirmPWToken="")["error"]["code"] == 114
    assert boot_task(dsm, "t", "true", SynoConfirmPWToken="made-up")["error"]["code"] == 105
    plain = dict(api="SYNO.Core.EventScheduler", method="create", version="1", task_name='"t"',
                 owner='{"0":"root"}', event='"bootup"', operation='"true"', operation_type='"script"')
    assert dsm.post("entry.cgi", plain)["error"]["code"] == 105
    assert boot_task(dsm, "t", "true")["success"] is True
    got = dsm.call("SYNO.Core.EventScheduler", "get", task_name='"t"')["data"]
    assert got["owner"] == {"0": "root"} and got["event"] == "bootup" and got["operation"] == "true"
    assert dsm.call("SYNO.Core.EventScheduler", "get", task_name='"nope"')["data"] == {}


def test_a_lab_boot_runs_boot_tasks_in_the_sandbox(dsm, dsm_lab, tmp_path):
    assert boot_task(dsm, "second", 'cat "$LAB_ROOT/first.txt" > second.txt; echo done',
                     depend_on_task='"[first]"')["success"]
    assert boot_task(dsm, "first", 'echo "$LAB_TASK_OWNER" > first.txt; echo oops >&2; exit 3')["success"]
    assert boot_task(dsm, "user", "echo user > user.txt", root=False, enable="false")["success"]
    dsm_lab.configure(boot=True)
    assert (tmp_path / "second.txt").read_text() == "root\n"
    assert not (tmp_path / "user.txt").exists()  # disabled tasks do not run
    results = dsm.call("SYNO.Core.EventScheduler", "result_list", task_name='"first"')["data"]
    assert [(r["exit_info"]["exit_code"], r["trigger_event"]) for r in results] == [(3, "bootup")]
    out = dsm.call("SYNO.Core.EventScheduler", "result_get_file", task_name='"first"',
                   result_id=results[0]["result_id"])["data"]
    assert out["script_out"] == "oops\n" and "exit 3" in out["script_in"]
    owners = {r["name"]: r["owner"] for rs in dsm_lab.state()["tasks"]["results"].values() for r in rs}
    assert owners == {"first": "root", "second": "root"}


def test_scheduled_task_runs_on_tick_and_over_the_api(dsm, dsm_lab, tmp_path):
    created = dsm.post("entry.cgi", dict(
        api="SYNO.Core.TaskScheduler.Root", method="create", version="4", name="patch", owner="root",
        real_owner="root", enable="true", type="script", schedule=json.dumps(SCHEDULE),
        extra=json.dumps({"notify_enable": False, "notify_mail": "", "notify_if_error": False,
                          "script": "echo tick >> ticks.txt"}), SynoConfirmPWToken=confirm(dsm)))
    task_id = created["data"]["id"]
    got = dsm.call("SYNO.Core.TaskScheduler", "get", 4, id=task_id, real_owner="root")["data"]
    assert got["schedule"]["monthly_week"] == [] and got["extra"]["script"] == "echo tick >> ticks.txt"
    assert dsm.call("SYNO.Core.TaskScheduler", "get", 4, id=task_id, real_owner="alice")["data"] == {}
    dsm_lab.configure(tick="2026-12-01 02:55")  # before the first run of the day: not due
    assert not (tmp_path / "ticks.txt").exists()
    dsm_lab.configure(tick="2026-12-01 03:05")
    assert (tmp_path / "ticks.txt").read_text() == "tick\n"
    dsm.call("SYNO.Core.TaskScheduler", "run", 2, tasks=json.dumps([{"id": task_id, "real_owner": "root"}]))
    for _ in range(50):
        history = dsm.call("SYNO.Core.TaskScheduler", "get_history_status_list", 1, id=task_id)["data"]
        if len(history) == 2:
            break
        time.sleep(0.1)
    assert [h["exit_code"] for h in history] == [0, 0]
    assert (tmp_path / "ticks.txt").read_text() == "tick\ntick\n"


def test_bad_schedule_is_refused(dsm):
    bad = dict(SCHEDULE, repeat_min=7)
    reply = dsm.post("entry.cgi", dict(
        api="SYNO.Core.TaskScheduler", method="create", version="4", name="x", owner="alice", real_owner="alice",
        enable="true", type="script", schedule=json.dumps(bad), extra=json.dumps({"script": "true"})))
    assert reply["error"]["code"] == 4800


def test_weekly_schedule_fires_on_its_days_only():
    import datetime
    from tests.lab.mock_dsm import task_runner
    weekly = {"date_type": 0, "repeat_date": 1002, "week_day": "1,4", "hour": 6, "minute": 30, "repeat_min": 0,
              "repeat_hour": 0, "last_work_hour": 6}
    monday = datetime.datetime(2026, 11, 30, 6, 30)  # a Monday (DSM's day 1)
    assert task_runner.is_due(weekly, monday)
    assert not task_runner.is_due(weekly, monday + datetime.timedelta(days=1))
    assert not task_runner.is_due(weekly, monday + datetime.timedelta(minutes=5))
    assert task_runner.next_trigger(weekly, monday) == "2026-12-03 06:30"  # the Thursday after
    hourly = dict(weekly, week_day="0,1,2,3,4,5,6", repeat_hour=2, last_work_hour=10)
    assert [task_runner.is_due(hourly, monday.replace(hour=h)) for h in (6, 8, 10, 12)] == [True, True, True, False]
