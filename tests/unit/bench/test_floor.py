"""The bench's floor playbook (tests/bench/floor.py): site.yml's tasks, each module task a ping."""

from __future__ import annotations

import json
import os

import yaml

from tests.bench import floor


def _walk(tasks):
    for task in tasks or []:
        if any(key in task for key in floor.BLOCK):
            for key in floor.BLOCK:
                yield from _walk(task.get(key))
        else:
            yield task


def _task_files(root, site):
    plays = yaml.safe_load(open(site, encoding="utf-8"))
    files = {"site.yml": [t for p in plays for key in ("pre_tasks", "tasks", "post_tasks") for t in p.get(key, [])]}
    for role in sorted(os.listdir(os.path.join(root, "roles"))):
        tasks_dir = os.path.join(root, "roles", role, "tasks")
        for name in sorted(os.listdir(tasks_dir)):
            files["%s/%s" % (role, name)] = yaml.safe_load(open(os.path.join(tasks_dir, name), encoding="utf-8"))
    return files


def test_the_floor_has_the_same_tasks_conditions_and_loops_with_ping_for_every_module(tmp_path):
    record = tmp_path / "record.json"
    record.write_text(json.dumps({"registered": {"site_router": {"external_ip": "{{ not a template }}"}}}))
    floor.build(str(record), str(tmp_path / "floor"))
    source = _task_files(floor.ROOT, floor.SITE)
    built = _task_files(str(tmp_path / "floor"), str(tmp_path / "floor" / "site.yml"))
    assert sorted(source) == sorted(built)
    modules = 0
    for name, tasks in source.items():
        pairs = list(zip(_walk(tasks), _walk(built[name]), strict=True))
        for original, rewritten in pairs:
            action = floor._action(original)
            assert rewritten.get("name") == original.get("name")
            for keyword in ("when", "loop", "loop_control", "vars", "tags", "check_mode"):
                assert rewritten.get(keyword) == original.get(keyword), (name, original.get("name"), keyword)
            assert "register" not in rewritten
            if action.startswith("homelab.nas."):
                modules += 1
                assert floor._action(rewritten) == "ansible.builtin.ping"
            elif action.rsplit(".", 1)[-1] not in floor.STRUCTURE:
                assert rewritten["ansible.builtin.set_fact"] == {"bench_floor_task": True}
    assert modules >= 20
    # What the no-op registered comes back as data, never templated.
    assert "!unsafe '{{ not a template }}'" in (tmp_path / "floor" / "recorded.yml").read_text()
