"""dsm_tasks (TaskStore) against the mock DSM: scheduled and boot-up tasks saved, found, run and deleted."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.nas.plugins.module_utils import dsm_tasks as t
from ansible_collections.homelab.nas.plugins.module_utils.dsm_errors import DsmError
from tests.lab.mock_dsm.seed import LAB_PASSWORD

EVERY_5 = {"frequency": "daily", "days": [], "time": "00:00", "every_minutes": 5, "every_hours": None, "until": None}


@pytest.fixture
def store(dsm_lab, dsm_client, tmp_path):
    dsm_lab.configure(task_root=str(tmp_path / "root"))
    return t.TaskStore(dsm_client, LAB_PASSWORD)


def scheduled(lab):
    return list(lab.state()["tasks"]["scheduled"].values())


def want(**overrides):
    return dict(dict(name="backup", trigger="schedule", owner="alice", enabled=True, script="echo hi"), **overrides)


def test_a_scheduled_task_is_created_found_replaced_and_deleted(store, dsm_lab, dsm_writes):
    assert store.find("schedule", "backup") is None
    task_id = store.save(want(schedule=EVERY_5), None)
    (stored,) = scheduled(dsm_lab)
    assert stored["id"] == task_id and stored["owner"] == "alice" and stored["extra"]["script"] == "echo hi"
    assert stored["schedule"]["repeat_min"] == 5 and stored["schedule"]["last_work_hour"] == 23
    assert dsm_writes() == [(t.TASK_API, "create")], "not root-owned: no password re-check, no .Root API"

    found = store.find("schedule", "backup", owner="alice")
    assert (found["id"], found["owner"], found["enabled"], found["script"]) == (task_id, "alice", True, "echo hi")
    assert found["schedule"]["frequency"] == "daily" and found["schedule"]["every_minutes"] == 5
    assert store.find("schedule", "backup", owner="ansible") is None, "another owner's task is not this one"

    weekly = {"frequency": "weekly", "days": ["mon", "thu"], "time": "6:30"}
    assert store.save(want(schedule=weekly, enabled=False, script="echo bye"), found) == task_id
    (stored,) = scheduled(dsm_lab)
    assert stored["schedule"]["week_day"] == "1,4" and (stored["schedule"]["hour"], stored["schedule"]["minute"]) == (
        6,
        30,
    )
    assert stored["enable"] is False and stored["extra"]["script"] == "echo bye"
    assert store.find("schedule", "backup")["schedule"]["days"] == ["mon", "thu"]

    store.delete(store.find("schedule", "backup"))
    assert scheduled(dsm_lab) == [] and store.find("schedule", "backup") is None


def test_a_root_boot_task_goes_through_the_password_check_and_runs(store, dsm_lab, dsm_writes):
    store.save(want(name="on-boot", trigger="boot", owner="root", script="echo started; exit 3"), None)
    event = dsm_lab.state()["tasks"]["event"]["on-boot"]
    assert event["owner"] == {"0": "root"} and event["event"] == "bootup" and event["operation"].startswith("echo")
    assert dsm_writes() == [(t.CONFIRM_API, "auth"), (t.EVENT_ROOT_API, "create")]
    found = store.find("boot", "on-boot")
    assert (found["trigger"], found["owner"], found["enabled"]) == ("boot", "root", True)
    result = store.run(found, timeout=30, poll=0.05)
    assert result["exit_code"] == 3 and "started" in result["output"] and result["warning"] is None
    assert store.find("boot", "nothing-by-this-name") is None


def test_a_wrong_password_writes_nothing_and_an_unknown_owner_is_named(dsm_lab, dsm_client, dsm_writes):
    with pytest.raises(DsmError) as err:
        t.TaskStore(dsm_client, "not-the-password").save(want(owner="root", schedule=EVERY_5), None)
    assert err.value.api == t.CONFIRM_API and err.value.code == 400
    assert scheduled(dsm_lab) == [] and dsm_writes() == [(t.CONFIRM_API, "auth")]
    with pytest.raises(DsmError, match="owner: no DSM account 'mallory'"):
        t.TaskStore(dsm_client, LAB_PASSWORD).save(want(trigger="shutdown", owner="mallory"), None)
    assert dsm_lab.state()["tasks"]["event"] == {}


def test_two_tasks_of_one_name_are_refused_naming_both_ids(store, dsm_lab):
    first = store.save(want(schedule=EVERY_5), None)
    second = store.save(want(schedule=EVERY_5), None)
    with pytest.raises(DsmError) as err:
        store.find("schedule", "backup")
    assert "2 scheduled tasks named 'backup' (ids %s, %s)" % (first, second) in str(err.value)


def test_a_compound_request_dsm_does_not_answer_falls_back_to_the_list(dsm_lab, dsm_client, tmp_path, monkeypatch):
    dsm_lab.configure(task_root=str(tmp_path / "root"))
    monkeypatch.setattr(dsm_client, "cache_dir", str(tmp_path / "cache"))
    store = t.TaskStore(dsm_client, LAB_PASSWORD, ids=t.TaskIds(dsm_client))
    task_id = store.save(want(schedule=EVERY_5), None)
    assert store.find("schedule", "backup", "alice")["id"] == task_id  # remembered from here on
    refused = DsmError("not inside a compound request", code=103)
    monkeypatch.setattr(dsm_client, "batch_results", lambda calls: [(None, refused)] * len(calls))
    dsm_lab.clear_log()
    found = store.find("schedule", "backup", "alice")
    assert found["id"] == task_id and found["script"] == "echo hi"
    assert [(c["api"], c["method"]) for c in dsm_lab.calls()] == [
        ("SYNO.Core.TaskScheduler", "list"),
        ("SYNO.Core.TaskScheduler", "get"),
    ]
