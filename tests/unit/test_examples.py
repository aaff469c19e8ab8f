"""Every module's EXAMPLES block is a list of tasks that Ansible could run: valid YAML, each task naming one module
by its FQCN, and every option given to one of ours (suboptions too, where the example spells them out) one that
its documentation has, with a value among the documented choices. A typo in an example is a user's first error."""

from __future__ import annotations

import pytest
import yaml

from tests.utils.module_docs import MODULES, module_docs

TASK_KEYWORDS = {
    "name", "register", "when", "loop", "loop_control", "vars", "no_log", "check_mode", "diff", "delegate_to",
    "run_once", "become", "changed_when", "failed_when", "ignore_errors", "tags", "environment", "until",
    "retries", "delay", "notify", "module_defaults", "args", "throttle",
}  # fmt: skip


@pytest.fixture(scope="module")
def docs():
    return module_docs()


def _problems(args, options, where):
    """Options in args (a dict as written in the example) that the documented options do not have."""
    if not isinstance(args, dict):
        return []  # a Jinja expression or an alias for the whole argument set
    problems = []
    for key, value in args.items():
        option = options.get(key) or next((o for o in options.values() if key in (o.get("aliases") or [])), None)
        if option is None:
            problems.append("%s: %s is not a documented option" % (where, key))
            continue
        choices = option.get("choices")
        if choices and isinstance(value, (str, int, bool)) and not (isinstance(value, str) and "{{" in value):
            listed = choices if isinstance(choices, list) else list(choices)
            if value not in listed:
                problems.append("%s: %s=%r is not among %s" % (where, key, value, listed))
        suboptions = option.get("suboptions")
        if suboptions:
            items = value if isinstance(value, list) else [value]
            for index, item in enumerate(items):
                problems += _problems(item, suboptions, "%s.%s[%d]" % (where, key, index))
    return problems


@pytest.mark.parametrize("module", MODULES)
def test_examples_are_runnable_tasks_with_documented_options(module, docs):
    tasks = yaml.safe_load(docs[module]["examples"])
    assert isinstance(tasks, list) and tasks, "EXAMPLES must be a YAML list of tasks"
    ours = 0
    problems = []
    for number, task in enumerate(tasks, 1):
        assert isinstance(task, dict) and task.get("name"), "task %d has no name" % number
        actions = [key for key in task if key not in TASK_KEYWORDS]
        assert len(actions) == 1 and "." in actions[0], "task %d: one module by FQCN, got %s" % (number, actions)
        action = actions[0]
        if action == "homelab.nas." + module:
            ours += 1
            problems += _problems(task[action], docs[module]["doc"]["options"], "task %d" % number)
        elif action.startswith("homelab.nas."):
            other = action.split(".")[-1]
            assert other in docs, "task %d: %s is not a module of this collection" % (number, action)
            problems += _problems(task[action], docs[other]["doc"]["options"], "task %d (%s)" % (number, other))
    assert ours, "no example uses homelab.nas.%s" % module
    assert problems == []
