"""Every module that only talks HTTP(S) from the controller runs in the worker through an action plugin of its name
(plugins/plugin_utils/in_process.py); router_port_forward, which may have to run on the NAS, has none."""

from __future__ import annotations

import importlib
import os

from ansible_collections.homelab.nas.plugins.plugin_utils.in_process import InProcessAction

PLUGINS = os.path.join(os.path.dirname(__file__), "..", "..", "plugins")
ON_THE_HOST = {"router_port_forward"}


def _names(kind):
    return {f[:-3] for f in os.listdir(os.path.join(PLUGINS, kind)) if f.endswith(".py") and f != "__init__.py"}


def test_every_api_module_and_only_those_has_an_in_process_action():
    assert _names("action") == _names("modules") - ON_THE_HOST


def test_each_action_plugin_is_the_in_process_one():
    for name in _names("action"):
        plugin = importlib.import_module("ansible_collections.homelab.nas.plugins.action." + name)
        assert issubclass(plugin.ActionModule, InProcessAction), name
