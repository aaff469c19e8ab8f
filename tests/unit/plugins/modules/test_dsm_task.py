"""dsm_task against the mock DSM: its Task Scheduler really runs the scripts (tests/lab/mock_dsm/tasks.py)."""

from __future__ import annotations

import types

import pytest

from ansible_collections.homelab.nas.plugins.modules import dsm_task
from tests.lab.mock_dsm import task_runner
from tests.unit.plugins.modules.runner import run_module

EVERY_5 = {"frequency": "daily", "time": "00:00", "every_minutes": 5}


@pytest.fixture
def run(dsm_lab, capsys, tmp_path):
    dsm_lab.configure(task_root=str(tmp_path / "root"))

    def _run(check_mode=False, diff=True, **args):
        base = dsm_lab.client_args(session_cache_dir=str(tmp_path / "cache"))
        base.update(args)
        return run_module(dsm_task, base, capsys, check_mode=check_mode, diff=diff)

    return _run


def tasks(lab):
    return lab.state()["tasks"]


def test_scheduled_root_task_created_then_idempotent(run, dsm_lab):
    first = run(name="patch", trigger="schedule", schedule=EVERY_5, script="echo hi")
    assert first["changed"] is True and first["diff"]["before"] == {}
    stored = list(tasks(dsm_lab)["scheduled"].values())
    assert len(stored) == 1 and stored[0]["owner"] == "root" and stored[0]["extra"]["script"] == "echo hi"
    assert stored[0]["schedule"]["repeat_min"] == 5 and stored[0]["schedule"]["last_work_hour"] == 23
    # Root-owned: written through the .Root API after a password re-check.
    apis = [(c["api"], c["method"]) for c in dsm_lab.calls()]
    assert ("SYNO.Core.User.PasswordConfirm", "auth") in apis and ("SYNO.Core.TaskScheduler.Root", "create") in apis
    dsm_lab.clear_log()
    again = run(name="patch", trigger="schedule", schedule=EVERY_5, script="echo hi")
    assert again["changed"] is False and again["diff"]["before"] == again["diff"]["after"]
    assert not [c for c in dsm_lab.calls() if c["method"] in ("create", "set", "auth", "delete", "run")]


def requests_of(lab):
    return [(c["api"], c["method"]) for c in lab.calls()]


def task_id_file(tmp_path):
    (entry,) = (tmp_path / "cache").glob("*.task.json")
    return entry


COMPOUND = [("SYNO.Entry.Request", "request")]


def test_a_scheduled_noop_is_one_request_in_check_mode_too(run, dsm_lab, tmp_path):
    args = dict(name="patch", trigger="schedule", schedule=EVERY_5, script="echo hi")
    first = run(**args)
    assert '"id": %d' % first["task"]["id"] in task_id_file(tmp_path).read_text()
    assert "hi" not in task_id_file(tmp_path).read_text()  # the id and owner only
    for check_mode in (False, True):
        dsm_lab.clear_log()
        again = run(check_mode=check_mode, **args)
        assert again["changed"] is False and again["diff"]["before"] == again["diff"]["after"], again
        assert again["task"]["id"] == first["task"]["id"]
        assert requests_of(dsm_lab) == COMPOUND
    dsm_lab.clear_log()
    changed = run(**dict(args, script="echo changed"))  # a change still reads the task it replaces
    assert changed["changed"] is True and changed["diff"]["before"]["script"] == "echo hi"
    assert requests_of(dsm_lab)[0] == COMPOUND[0]


@pytest.mark.parametrize("stale", ["another task", "an id DSM does not know", "not JSON"])
def test_a_stale_remembered_id_is_read_again_by_the_listed_one(run, dsm_lab, tmp_path, stale):
    args = dict(name="patch", trigger="schedule", schedule=EVERY_5, script="echo hi")
    other = run(name="other", trigger="schedule", schedule=EVERY_5, script="echo other")["task"]["id"]
    task_id_file(tmp_path).unlink()
    mine = run(**args)["task"]["id"]
    wrong = {
        "another task": '{"id": %d, "real_owner": "root"}' % other,
        "an id DSM does not know": '{"id": 99, "real_owner": "root"}',
        "not JSON": '{"id": ',
    }[stale]
    task_id_file(tmp_path).write_text(wrong)
    dsm_lab.clear_log()
    again = run(**args)
    assert again["changed"] is False and again["task"]["id"] == mine, again
    assert again["task"]["script"] == "echo hi"
    get = ("SYNO.Core.TaskScheduler", "get")
    assert requests_of(dsm_lab) == ([("SYNO.Core.TaskScheduler", "list")] if stale == "not JSON" else COMPOUND) + [get]
    assert '"id": %d' % mine in task_id_file(tmp_path).read_text()
    dsm_lab.clear_log()
    assert run(**args)["changed"] is False and requests_of(dsm_lab) == COMPOUND


def test_a_task_deleted_behind_the_modules_back_is_made_again_and_its_new_id_remembered(run, dsm_lab, tmp_path):
    args = dict(name="patch", trigger="schedule", schedule=EVERY_5, script="echo hi")
    first = run(**args)["task"]["id"]
    entry = task_id_file(tmp_path)
    remembered = entry.read_text()
    assert run(name="patch", trigger="schedule", state="absent")["changed"] is True
    assert not entry.exists()  # the module forgets what it deleted
    entry.write_text(remembered)  # as if deleted in DSM's UI: the id is still remembered
    assert run(name="patch", trigger="schedule", state="absent")["changed"] is False
    assert not entry.exists()  # DSM lists no such task: forgotten
    entry.write_text(remembered)
    again = run(**args)
    assert again["changed"] is True and again["task"]["id"] != first
    assert '"id": %d' % again["task"]["id"] in entry.read_text()


def test_change_check_mode_and_diff(run, dsm_lab):
    run(name="patch", trigger="schedule", schedule=EVERY_5, script="echo hi")
    before = tasks(dsm_lab)
    weekly = {"frequency": "weekly", "days": ["thu", "Mon"], "time": "6:30"}
    planned = run(check_mode=True, name="patch", trigger="schedule", schedule=weekly, script="echo hi", enabled=False)
    assert planned["changed"] is True and tasks(dsm_lab) == before
    assert planned["diff"]["before"]["schedule"]["frequency"] == "daily"
    assert planned["diff"]["after"]["schedule"]["days"] == ["mon", "thu"]
    done = run(name="patch", trigger="schedule", schedule=weekly, script="echo hi", enabled=False)
    assert done["changed"] is True
    stored = list(tasks(dsm_lab)["scheduled"].values())[0]
    assert stored["schedule"]["week_day"] == "1,4" and stored["schedule"]["hour"] == 6 and stored["enable"] is False
    assert len(tasks(dsm_lab)["scheduled"]) == 1  # replaced in place, not a second task
    assert run(name="patch", trigger="schedule", schedule=weekly, script="echo hi", enabled=False)["changed"] is False


def test_boot_task_change_and_delete(run, dsm_lab):
    assert run(name="boot patch", trigger="boot", script="true")["changed"] is True
    stored = tasks(dsm_lab)["event"]["boot patch"]
    assert stored["owner"] == {"0": "root"} and stored["event"] == "bootup"
    assert run(name="boot patch", trigger="boot", script="true")["changed"] is False
    assert run(name="boot patch", trigger="boot", script="echo changed")["changed"] is True
    assert tasks(dsm_lab)["event"]["boot patch"]["operation"] == "echo changed"
    planned = run(check_mode=True, name="boot patch", trigger="boot", state="absent")
    assert planned["changed"] is True and "boot patch" in tasks(dsm_lab)["event"]
    gone = run(name="boot patch", trigger="boot", state="absent")
    assert gone["changed"] is True and gone["task"] is None and tasks(dsm_lab)["event"] == {}
    assert run(name="boot patch", trigger="boot", state="absent")["changed"] is False


def test_user_task_needs_no_password_confirm(run, dsm_lab):
    result = run(name="report", trigger="shutdown", owner="alice", script="echo bye")
    assert result["changed"] is True
    assert tasks(dsm_lab)["event"]["report"]["owner"] == {"1028": "alice"}
    assert not dsm_lab.calls(api="SYNO.Core.User.PasswordConfirm")
    assert not dsm_lab.calls(api="SYNO.Core.EventScheduler.Root")


def test_root_task_with_a_wrong_password_confirm_fails(run, dsm_lab):
    # The login works (fault on the re-check only): DSM refuses the confirmation, nothing is written.
    dsm_lab.fault(fail_next={"api": "SYNO.Core.User.PasswordConfirm", "method": "auth", "code": 400})
    result = run(name="patch", trigger="boot", script="true")
    assert result["failed"] is True and "400" in result["msg"]
    assert tasks(dsm_lab)["event"] == {}


def test_an_event_task_of_an_unknown_owner_fails_naming_it(run, dsm_lab):
    result = run(name="report", trigger="shutdown", owner="mallory", script="true")
    assert result["failed"] is True and "owner: no DSM account 'mallory'" in result["msg"], result["msg"]
    assert tasks(dsm_lab)["event"] == {}


@pytest.mark.parametrize("trigger,extra", [("schedule", {"schedule": EVERY_5}), ("boot", {})])
def test_run_exit_0_returns_output(run, dsm_lab, tmp_path, trigger, extra):
    result = run(
        name="hello", trigger=trigger, script='echo "hello from $LAB_TASK_OWNER" | tee out.txt', run=True, **extra
    )
    assert result["changed"] is True and result["exit_code"] == 0
    assert result["output"] == "hello from root\n"
    assert (tmp_path / "root" / "out.txt").read_text() == "hello from root\n"


@pytest.mark.parametrize("trigger,extra", [("schedule", {"schedule": EVERY_5}), ("boot", {})])
def test_run_exit_1_fails_unless_told_not_to(run, trigger, extra):
    failed = run(name="broken", trigger=trigger, script="echo nope >&2; exit 1", run=True, **extra)
    assert failed["failed"] is True and failed["exit_code"] == 1 and failed["output"] == "nope\n"
    assert "exited with 1" in failed["msg"]
    accepted = run(
        name="broken", trigger=trigger, script="echo nope >&2; exit 1", run=True, fail_on_error=False, **extra
    )
    assert not accepted.get("failed") and accepted["exit_code"] == 1


def test_two_runs_within_one_second_are_told_apart(run, monkeypatch):
    # DSM stamps a scheduled task's history to the second: a second run that ends like the first, within the
    # same second, looks exactly like it, and only the number of alike entries shows it arrived.
    monkeypatch.setattr(task_runner, "time", types.SimpleNamespace(time=lambda: 1_800_000_000.0))
    args = dict(name="same", trigger="schedule", schedule=EVERY_5, script="echo same", run=True, run_timeout=5)
    first, second = run(**args), run(**args)
    assert first["exit_code"] == second["exit_code"] == 0 and second["output"] == "same\n"
    assert not second.get("failed"), second.get("msg")


@pytest.mark.parametrize(
    "args,fragment",
    [
        ({"trigger": "schedule", "script": "true"}, "needs a schedule"),
        ({"trigger": "boot", "script": "true", "schedule": EVERY_5}, "only trigger=schedule"),
        ({"trigger": "boot", "script": 42}, "as a string"),
        ({"trigger": "boot"}, "as a string"),
        ({"trigger": "schedule", "script": "true", "schedule": {"time": "25:00"}}, "not a time of day"),
        ({"trigger": "schedule", "script": "true", "schedule": {"frequency": "weekly"}}, "needs days"),
        (
            {"trigger": "schedule", "script": "true", "schedule": {"frequency": "weekly", "days": ["funday"]}},
            "needs days",
        ),
        (
            {"trigger": "schedule", "script": "true", "schedule": {"frequency": "weekly", "days": ["monkey"]}},
            "needs days",
        ),
        ({"trigger": "schedule", "script": "true", "schedule": {"days": ["mon"]}}, "runs every day"),
        ({"trigger": "schedule", "script": "true", "schedule": {"every_minutes": 5, "every_hours": 2}}, "exclude"),
        ({"trigger": "schedule", "script": "true", "schedule": {"every_hours": 30}}, "not 1-23"),
        ({"trigger": "schedule", "script": "true", "schedule": {"time": "06:00", "until": 3}}, "schedule.until"),
        ({"trigger": "boot", "script": "true", "name": " "}, "name:"),
    ],
)
def test_bad_input_refused_before_any_request(run, dsm_lab, args, fragment):
    dsm_lab.clear_log()
    args = dict({"name": "t"}, **args)
    result = run(**args)
    assert result["failed"] is True and fragment in result["msg"]
    assert dsm_lab.calls() == []


PATCH = """conf="$LAB_ROOT/etc/nginx/sites-enabled/server.ReverseProxy.conf"
grep -q '# homelab patch' "$conf" && exit 0
echo '# homelab patch' >> "$conf" && echo patched"""


def test_boot_task_repatches_the_dsm_nginx_tree_at_a_lab_boot(dsm_lab, capsys, tmp_path):
    """The nginx patch's mechanism end to end: a root boot-up task made by the module runs at a lab boot,
    after a simulated DSM update regenerated the file it patches."""
    from tests.lab.dsm_nginx import tree

    root = tree.build(str(tmp_path / "nas"))  # DSM 7's layout
    dsm_lab.configure(task_root=root)
    conf = tmp_path / "nas" / tree.SERVER_FILES["dsm7"]
    args = dict(
        dsm_lab.client_args(session_cache_dir=str(tmp_path / "cache")),
        name="nginx patch",
        trigger="boot",
        script=PATCH,
        run=True,
    )
    first = run_module(dsm_task, args, capsys)
    assert first["exit_code"] == 0 and first["output"] == "patched\n" and conf.read_text().endswith("# homelab patch\n")
    tree.regenerate(root)  # what a DSM update does: the patch is gone
    assert "# homelab patch" not in conf.read_text()
    dsm_lab.configure(boot=True)
    assert conf.read_text().count("# homelab patch") == 1
    boot_runs = [r for r in dsm_lab.state()["tasks"]["results"]["event:nginx patch"] if r["trigger"] == "bootup"]
    assert [(r["exit_code"], r["owner"], r["output"]) for r in boot_runs] == [(0, "root", "patched\n")]
    dsm_lab.configure(boot=True)  # patched already: a cheap no-op
    assert conf.read_text().count("# homelab patch") == 1
