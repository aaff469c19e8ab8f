"""The floor playbook: site.yml's tasks and loop items with nothing of ours in them (tests/bench).

  python -m tests.bench.floor RECORD.json OUT_DIR

Rewrites playbooks/site.yml and the roles it imports, mechanically, so that it stays in step when they change:
every homelab.nas module task becomes `ansible.builtin.ping`, every other task that does something on the
controller (assert, debug, fail, set_fact, file, validate_argument_spec...) a `set_fact` of a constant; blocks,
includes and role imports stay, and so do `when:`, `loop:`, `loop_control:`, `vars:`, `tags:`, `check_mode:`,
`delegate_to:`. What the tasks would have registered or set is given as extra vars (OUT_DIR/recorded.yml, from a
no-op run of site.yml recorded by callbacks/bench_record.py), so the conditions take the same branches and the
loops the same items. OUT_DIR gets site.yml, roles/<name> (the role with rewritten task files) and recorded.yml.
"""

from __future__ import annotations

import json
import os
import shutil
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTION = "homelab.nas."

# Task keywords the floor keeps: what decides whether a task runs, on which items, and where.
KEEP = {
    "name",
    "when",
    "loop",
    "loop_control",
    "vars",
    "tags",
    "check_mode",
    "delegate_to",
    "run_once",
    "ignore_errors",
    "no_log",
    "any_errors_fatal",
    "environment",
    "become",
}
# Task keywords about the result, dropped with it (ping's result is not the module's).
DROP = {"register", "changed_when", "failed_when", "until", "retries", "delay", "args", "notify", "diff"}
STRUCTURE = {"include_tasks", "import_tasks", "import_role", "include_role"}
BLOCK = ("block", "rescue", "always")


def _action(task):
    actions = [key for key in task if key not in KEEP and key not in DROP and key not in BLOCK]
    if len(actions) != 1:
        raise ValueError("cannot tell the action of task %r: %s" % (task.get("name"), actions))
    return actions[0]


def floor_task(task):
    """One task of the floor (blocks recursively)."""
    if any(key in task for key in BLOCK):
        out = {key: value for key, value in task.items() if key not in BLOCK and key not in DROP}
        for key in BLOCK:
            if key in task:
                out[key] = [floor_task(t) for t in task[key]]
        return out
    action = _action(task)
    out = {key: value for key, value in task.items() if key in KEEP}
    short = action.rsplit(".", 1)[-1]
    if short in STRUCTURE:
        arg = task[action]
        if short.endswith("_role") and isinstance(arg, dict) and arg.get("name", "").startswith(COLLECTION):
            arg = dict(arg, name=arg["name"][len(COLLECTION) :])
        out[action] = arg
    elif action.startswith(COLLECTION):
        out["ansible.builtin.ping"] = {}
    else:
        out["ansible.builtin.set_fact"] = {"bench_floor_task": True}
    return out


def floor_tasks(tasks):
    return [floor_task(t) for t in tasks or []]


def floor_play(play):
    out = dict(play)
    for key in ("pre_tasks", "tasks", "post_tasks", "handlers"):
        if key in out:
            out[key] = floor_tasks(out[key])
    return out


def floor_role(source, target):
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("README.md"))
    tasks_dir = os.path.join(target, "tasks")
    for name in sorted(os.listdir(tasks_dir)):
        path = os.path.join(tasks_dir, name)
        with open(path, encoding="utf-8") as handle:
            tasks = yaml.safe_load(handle)
        with open(path, "w", encoding="utf-8") as out:
            yaml.safe_dump(floor_tasks(tasks), out, sort_keys=False, width=120)


class _Unsafe(str):
    pass


def _unsafe(dumper, value):
    # Registered results are data, not templates: !unsafe keeps Ansible from templating them when read back.
    return dumper.represent_scalar("!unsafe", str(value))


def write_recorded(record, path):
    """The registered results and facts of the no-op run as extra vars, every string !unsafe."""

    def mark(value):
        if isinstance(value, str):
            return _Unsafe(value)
        if isinstance(value, dict):
            return {k: mark(v) for k, v in value.items()}
        if isinstance(value, list):
            return [mark(v) for v in value]
        return value

    dumper = type("UnsafeDumper", (yaml.SafeDumper,), {})
    dumper.add_representer(_Unsafe, _unsafe)
    data = record["registered"]
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as out:
        yaml.dump(mark(data), out, Dumper=dumper, sort_keys=True, width=120)


SITE = os.path.join(ROOT, "playbooks", "site.yml")


def build(record_path, out_dir, site=SITE):
    """Write the floor of `site` into out_dir; returns the floor playbook's path."""
    with open(site, encoding="utf-8") as handle:
        plays = yaml.safe_load(handle)
    if os.path.isdir(out_dir):
        shutil.rmtree(out_dir)
    os.makedirs(os.path.join(out_dir, "roles"))
    for name in sorted(os.listdir(os.path.join(ROOT, "roles"))):
        floor_role(os.path.join(ROOT, "roles", name), os.path.join(out_dir, "roles", name))
    playbook = os.path.join(out_dir, "site.yml")
    with open(playbook, "w", encoding="utf-8") as out:
        yaml.safe_dump([floor_play(p) for p in plays], out, sort_keys=False, width=120)
    with open(record_path, encoding="utf-8") as handle:
        write_recorded(json.load(handle), os.path.join(out_dir, "recorded.yml"))
    return playbook


def count_tasks(tasks):
    """(module tasks, other tasks) of a task list, blocks included, includes and imports not followed."""
    modules = others = 0
    for task in tasks or []:
        if any(key in task for key in BLOCK):
            for key in BLOCK:
                m, o = count_tasks(task.get(key))
                modules, others = modules + m, others + o
            continue
        action = _action(task)
        if action.rsplit(".", 1)[-1] in STRUCTURE:
            continue
        if action.startswith(COLLECTION) or action == "ansible.builtin.ping":
            modules += 1
        else:
            others += 1
    return modules, others


if __name__ == "__main__":
    print(build(sys.argv[1], sys.argv[2]))
