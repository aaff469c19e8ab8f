"""file_lock: one holder at a time across processes, atomic private writes, and the session cache's
read-modify-writes under it (issue 12 item 4)."""

from __future__ import annotations

import multiprocessing
import os
import stat
import time

import pytest

from ansible_collections.homelab.nas.plugins.module_utils import dsm_session_cache, file_lock
from ansible_collections.homelab.nas.plugins.module_utils.dsm_session_cache import SessionCache, TrustedCertificates
from ansible_collections.homelab.nas.plugins.modules import dsm_update_policy
from tests.unit.plugins.modules.runner import run_module

FORK = multiprocessing.get_context("fork")


def _hold(lock_path, held, release):
    with file_lock.locked(lock_path):
        held.set()
        release.wait(10)


def test_a_lock_held_by_another_process_is_waited_for_then_named(tmp_path):
    lock = str(tmp_path / ".x.lock")
    held, release = FORK.Event(), FORK.Event()
    holder = FORK.Process(target=_hold, args=(lock, held, release))
    holder.start()
    try:
        assert held.wait(10)
        started = time.monotonic()
        with pytest.raises(file_lock.LockError) as err:
            with file_lock.locked(lock, timeout=0.3, what="the test's file"):
                pass
        assert time.monotonic() - started >= 0.3
        assert lock in str(err.value) and "the test's file" in str(err.value)
    finally:
        release.set()
        holder.join(10)
    # Released when its holder ends: taken at once now.
    with file_lock.locked(lock, timeout=0):
        pass
    assert stat.S_IMODE(os.stat(lock).st_mode) == 0o600


def test_a_lock_file_that_cannot_be_made_names_its_directory(tmp_path):
    with pytest.raises(file_lock.LockError) as err:
        with file_lock.locked(str(tmp_path / "missing" / ".x.lock")):
            pass
    assert "missing" in str(err.value) and "writable" in str(err.value)


def test_atomic_write_is_private_from_creation_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    modes = []
    real_fdopen = os.fdopen

    def spying_fdopen(fd, *args, **kwargs):
        modes.append(stat.S_IMODE(os.fstat(fd).st_mode))  # the temporary file before a byte is written
        return real_fdopen(fd, *args, **kwargs)

    monkeypatch.setattr(file_lock.os, "fdopen", spying_fdopen)
    target = tmp_path / "key.pem"
    target.write_text("old")
    os.chmod(target, 0o644)
    file_lock.write_atomic(str(target), "new")
    assert modes == [0o600]
    assert target.read_text() == "new" and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["key.pem"]


def test_the_session_cache_never_repermissions_an_existing_directory(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o755)
    SessionCache(str(shared), "https://nas:5001", "ansible").save_session("sid", "token")
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755
    # A missing one is created private.
    SessionCache(str(tmp_path / "new"), "https://nas:5001", "ansible").save_session("sid", "token")
    assert stat.S_IMODE((tmp_path / "new").stat().st_mode) == 0o700


def test_a_session_is_dropped_only_by_a_task_that_used_it(tmp_path):
    first = SessionCache(str(tmp_path), "https://nas:5001", "ansible")
    second = SessionCache(str(tmp_path), "https://nas:5001", "ansible")
    first.save_session("sid-1", "token-1")
    second.save_session("sid-2", "token-2")  # another task logged in meanwhile
    first.drop_session()  # DSM refused sid-1: the newer session stays for the tasks that follow
    assert SessionCache(str(tmp_path), "https://nas:5001", "ansible").load_session()["sid"] == "sid-2"
    second.drop_session()
    assert SessionCache(str(tmp_path), "https://nas:5001", "ansible").load_session() is None


def _add_pin(directory, digest, start):
    start.wait(10)
    TrustedCertificates(directory, "https://nas:5001").add(digest)


def test_pins_recorded_at_once_by_several_tasks_are_all_kept(tmp_path, monkeypatch):
    # A slow disk: the window between reading the record and replacing it is wide open.
    real_write = dsm_session_cache.write_json

    def slow_write(path, data):
        time.sleep(0.2)
        real_write(path, data)

    monkeypatch.setattr(dsm_session_cache, "write_json", slow_write)
    digests = ["%064x" % number for number in range(TrustedCertificates.KEEP)]
    start = FORK.Event()
    workers = [FORK.Process(target=_add_pin, args=(str(tmp_path), d, start)) for d in digests]
    for worker in workers:
        worker.start()
    start.set()
    for worker in workers:
        worker.join(20)
        assert worker.exitcode == 0
    assert sorted(TrustedCertificates(str(tmp_path), "https://nas:5001").load()) == digests


def test_a_dsm_task_waits_for_another_on_the_same_dsm(dsm_lab, tmp_path, capsys, monkeypatch):
    # DSM's lists and profiles are read, changed and written whole: two writers on one DSM take turns. The task
    # reads first without the lock (a no-op never waits), so it has logged in when it waits: only that differs.
    monkeypatch.setattr(file_lock, "LOCK_TIMEOUT", 0.3)
    args = dict(dsm_lab.client_args(session_cache_dir=str(tmp_path / "cache")), mode="security_only")
    base_url = "https://%s:%s/webapi/" % (dsm_lab.host, dsm_lab.https_port)
    before = dsm_lab.state()
    with file_lock.locked(file_lock.named_lock("dsm", base_url)):
        failed = run_module(dsm_update_policy, args, capsys)
        assert failed.get("failed") is True and "DSM at %s" % base_url in failed["msg"], failed
        assert dict(dsm_lab.state(), active_sessions=None) == dict(before, active_sessions=None)
        assert run_module(dsm_update_policy, args, capsys, check_mode=True)["changed"] is True  # no lock
    assert run_module(dsm_update_policy, args, capsys)["changed"] is True
    # What changes nothing takes no turn: the same task, now a no-op, runs while another holds the lock.
    with file_lock.locked(file_lock.named_lock("dsm", base_url)):
        assert run_module(dsm_update_policy, args, capsys)["changed"] is False
