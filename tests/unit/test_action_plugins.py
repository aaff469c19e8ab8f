"""Every module runs in the worker through an action plugin of its name (plugins/plugin_utils/in_process.py);
router_port_forward's does so only on the controller with the controller's Python, since it may have to run on the
NAS (tests/system: test_playbook_runs.py and test_router_on_dsm_python.py)."""

from __future__ import annotations

import gc
import importlib
import os

from ansible_collections.homelab.nas.plugins.plugin_utils.in_process import InProcessAction

PLUGINS = os.path.join(os.path.dirname(__file__), "..", "..", "plugins")


def _names(kind):
    return {f[:-3] for f in os.listdir(os.path.join(PLUGINS, kind)) if f.endswith(".py") and f != "__init__.py"}


def test_every_module_and_only_those_has_an_in_process_action():
    assert _names("action") == _names("modules")


def test_each_action_plugin_is_the_in_process_one():
    for name in _names("action"):
        plugin = importlib.import_module("ansible_collections.homelab.nas.plugins.action." + name)
        assert issubclass(plugin.ActionModule, InProcessAction), name


def test_workers_forked_after_an_action_class_loads_freeze_what_they_inherit():
    importlib.import_module("ansible_collections.homelab.nas.plugins.action.dsm_info")  # Ansible's main process does
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: its collections skip the inherited heap
        os.close(reader)
        os.write(writer, str(gc.get_freeze_count()).encode())
        os._exit(0)
    os.close(writer)
    frozen = int(os.read(reader, 64) or b"0")
    os.close(reader)
    os.waitpid(pid, 0)
    assert frozen > 0
    assert gc.get_freeze_count() == 0 or frozen > gc.get_freeze_count(), "the main process is left as it is"
