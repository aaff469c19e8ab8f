"""Run a module's main() in-process, as Ansible would, and return its JSON result."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils import _internal as ansible_internal
from ansible.module_utils.common import warnings as ansible_warnings
from ansible.module_utils.testing import patch_module_args


def run_module(module, args, capsys, check_mode=False, diff=False):
    # Ansible keeps warnings in a process-wide list; each real module run is a fresh process.
    ansible_warnings._global_warnings.clear()  # pylint: disable=protected-access
    ansible_warnings._global_deprecations.clear()  # pylint: disable=protected-access
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    # A module process has no controller: once a test imported controller code (ansible.errors, a filter
    # plugin), module warnings would go to the controller's display instead of the result.
    was_controller, ansible_internal.is_controller = ansible_internal.is_controller, False
    try:
        with patch_module_args(args):
            with pytest.raises(SystemExit):
                module.main()
    finally:
        ansible_internal.is_controller = was_controller
    out = capsys.readouterr().out
    return json.loads(out)
