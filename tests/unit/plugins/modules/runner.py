"""Run a module's main() in-process, as Ansible would, and return its JSON result.

Works on every ansible-core the collection supports: 2.19 added `patch_module_args` and the controller flag;
older releases read the arguments from `basic._ANSIBLE_ARGS`.
"""

from __future__ import annotations

import contextlib
import json

import pytest
from ansible.module_utils import basic
from ansible.module_utils.common import warnings as ansible_warnings

try:
    from ansible.module_utils import _internal as ansible_internal
    from ansible.module_utils.testing import patch_module_args
except ImportError:  # ansible-core < 2.19
    ansible_internal = None

    @contextlib.contextmanager
    def patch_module_args(args):
        was = basic._ANSIBLE_ARGS  # pylint: disable=protected-access
        basic._ANSIBLE_ARGS = json.dumps({"ANSIBLE_MODULE_ARGS": args}).encode()  # pylint: disable=protected-access
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = was  # pylint: disable=protected-access


@contextlib.contextmanager
def _as_module_process():
    """A module process has no controller: once a test imported controller code (ansible.errors, a filter
    plugin), module warnings would go to the controller's display instead of the result (2.19+)."""
    if ansible_internal is None:
        yield
        return
    was_controller, ansible_internal.is_controller = ansible_internal.is_controller, False
    try:
        yield
    finally:
        ansible_internal.is_controller = was_controller


def run_module(module, args, capsys, check_mode=False, diff=False):
    # Ansible keeps warnings in a process-wide list; each real module run is a fresh process.
    ansible_warnings._global_warnings.clear()  # pylint: disable=protected-access
    ansible_warnings._global_deprecations.clear()  # pylint: disable=protected-access
    args = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
    with _as_module_process(), patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    out = capsys.readouterr().out
    return json.loads(out)
