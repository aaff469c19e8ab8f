"""What a no-op run registered and when each task started, for `make bench` (tests/bench).

Enabled only by the bench (ANSIBLE_CALLBACKS_ENABLED=bench_record, BENCH_RECORD=<file.json>): it writes what
the first host's tasks registered and set (the variable manager's per-run cache; the floor playbook is given it,
so its `when:` and `loop:` take the same branches and items), each task's start time (the request logs' entries
are put on the task that was running) and its number of loop items.
"""

from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: bench_record
type: aggregate
short_description: record registered results and task start times for make bench
description: Written for tests/bench only; the file is BENCH_RECORD.
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "bench_record"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.path = os.environ.get("BENCH_RECORD")
        self.host = None
        self.play = None
        self.tasks = []

    def v2_playbook_on_task_start(self, task, is_conditional):
        self.tasks.append({"t": time.time(), "name": task.get_name(), "action": task.action, "items": 0})

    def _item(self, result):
        if result._host.get_name() == (self.host or result._host.get_name()) and self.tasks:
            self.tasks[-1]["items"] += 1

    v2_runner_item_on_ok = _item
    v2_runner_item_on_skipped = _item
    v2_runner_item_on_failed = _item

    def v2_playbook_on_play_start(self, play):
        self.play = play

    def _keep(self, result):
        if self.host is None:
            self.host = result._host.get_name()

    v2_runner_on_ok = _keep
    v2_runner_on_skipped = _keep

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._keep(result)

    def v2_playbook_on_stats(self, stats):
        if not self.path:
            return
        self.tasks.append({"t": time.time(), "name": "(end)", "action": None})
        # What the host's tasks registered and set (set_fact), uncensored: a result shown censored
        # (no_log) is registered whole, and the floor's conditions read it.
        cache = self.play.get_variable_manager()._nonpersistent_fact_cache
        registered = dict(cache.get(self.host, {})) if self.host else {}
        # The lab's values only (its secrets are lab-only), readable by this user alone.
        with open(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as out:
            json.dump({"registered": registered, "tasks": self.tasks}, out, default=str)
