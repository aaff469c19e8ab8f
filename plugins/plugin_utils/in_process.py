# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""Runs one of the collection's API modules inside the controller's worker process.

The DSM, Cloudflare and TLS-probe modules only make HTTP(S) requests from the controller, so starting a Python
process for each of them (building the module's package, starting the interpreter and Ansible's module base) costs
more than the module's own work (issue 15). Each such module has an action plugin of the same name that runs the
module's `main()` here, in the worker Ansible forked for the task, the way Ansible would run it in a process of its
own: the task's arguments (module_defaults already merged by Ansible, since the action has the module's name) plus
the internal ones Ansible adds (check mode, diff, no_log, verbosity...), serialised as Ansible serialises them, and
the module's JSON answer parsed as Ansible parses a module's. Check mode, `--diff`, `no_log` and the module's
documentation are the module's, unchanged. Not for modules that must run on the managed host
(router_port_forward in UPnP secure mode runs on the NAS), and not async.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import inspect
import io
import json
import os
import traceback

from ansible.errors import AnsibleActionFail
from ansible.module_utils import basic
from ansible.module_utils.common import warnings as module_warnings
from ansible.plugins.action import ActionBase
from ansible.vars.clean import remove_internal_keys

MODULES = "ansible_collections.homelab.nas.plugins.modules."
# The collection's filter plugins, by the name Ansible's filter loader gives them in sys.modules.
FILTERS = "ansible_collections.homelab.nas.plugins.filter."
FILTER_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "filter")

try:  # ansible-core 2.19+: arguments and results carry data tags, (de)serialised by a profile
    from ansible.module_utils import _internal as module_internal
    from ansible.module_utils.common.json import Direction, get_module_encoder

    PROFILE = "legacy"

    def _encoded(args):
        """The task's arguments as Ansible sends them to a module process."""
        encoder = get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE)
        return json.dumps({"ANSIBLE_MODULE_ARGS": args}, cls=encoder).encode()

except ImportError:  # ansible-core < 2.19
    from ansible.module_utils.common.json import AnsibleJSONEncoder

    module_internal = None
    PROFILE = None

    def _encoded(args):
        """The task's arguments as Ansible sends them to a module process (vaulted values as their text)."""
        return json.dumps({"ANSIBLE_MODULE_ARGS": args}, cls=AnsibleJSONEncoder, vault_to_text=True).encode()


def _head_start(name):
    """Import a module in Ansible's main process, before the strategy forks workers: each worker then finds it in
    sys.modules (Ansible's plugin loader looks there first) instead of importing it anew."""
    try:
        importlib.import_module(name)
    except Exception:  # pylint: disable=broad-exception-caught
        pass  # only a head start: the worker imports it again and reports what fails


def _filters_head_start():
    """Every filter plugin of the collection, once: the roles' variables use them in most tasks, and each import
    (with the module_utils it uses, requests among them) cost a worker about 0.1 s of CPU."""
    if _filters_head_start.done:
        return
    _filters_head_start.done = True
    for name in sorted(os.listdir(FILTER_DIR)):
        if name.endswith(".py") and not name.startswith("_"):
            _head_start(FILTERS + name[:-3])


_filters_head_start.done = False


def _freeze_inherited_objects():
    """Every worker Ansible forks from here after this call freezes what it inherited (gc.freeze, in the child,
    right after the fork), once per process. A worker runs one task and exits; without this, each of its garbage
    collections walked the whole heap it inherited from the main process, touching (and so copying) every page of
    it: about 0.04 s per task once a play holds a large inventory (200 services), none with the collector off.
    Python's gc documentation gives this for processes that fork without exec; the main process itself is left as
    it is."""
    if _freeze_inherited_objects.done:
        return
    _freeze_inherited_objects.done = True
    if hasattr(os, "register_at_fork") and hasattr(gc, "freeze"):
        os.register_at_fork(after_in_child=gc.freeze)


_freeze_inherited_objects.done = False


@contextlib.contextmanager
def _module_process(args):
    """What a module process would have: its arguments where AnsibleModule reads them, no controller (2.19+ sends a
    module's warnings to the controller's display instead of its result when it thinks it is the controller), empty
    warning lists, and stdout to read the answer from."""
    saved = basic._ANSIBLE_ARGS, getattr(basic, "_ANSIBLE_PROFILE", None)  # pylint: disable=protected-access
    basic._ANSIBLE_ARGS = _encoded(args)  # pylint: disable=protected-access
    if PROFILE:
        basic._ANSIBLE_PROFILE = PROFILE  # pylint: disable=protected-access
    controller = module_internal.is_controller if module_internal else None
    if module_internal:
        module_internal.is_controller = False
    module_warnings._global_warnings.clear()  # pylint: disable=protected-access
    module_warnings._global_deprecations.clear()  # pylint: disable=protected-access
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            yield out
    finally:
        basic._ANSIBLE_ARGS = saved[0]  # pylint: disable=protected-access
        if PROFILE:
            basic._ANSIBLE_PROFILE = saved[1]  # pylint: disable=protected-access
        if module_internal:
            module_internal.is_controller = controller


class InProcessAction(ActionBase):
    """The action plugin of a module that runs in the controller's worker (see the module docstring)."""

    TRANSFERS_FILES = False
    _supports_check_mode = True  # the module says whether it supports check mode, as in a process of its own
    _supports_async = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # Ansible's strategy loads a task's action class in the controller's main process before it forks the
        # task's worker. Importing the module (with requests, cryptography and module_utils) then, once, gives every
        # worker it already imported, instead of each importing it anew (about 0.3 s of CPU per task); the same for
        # the collection's filters. And workers forked from then on skip what they inherited when they collect
        # garbage (_freeze_inherited_objects).
        _head_start(MODULES + cls.__module__.rpartition(".")[2])
        _filters_head_start()
        _freeze_inherited_objects()

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        fqcn = self._task.resolved_action or self._task.action
        module = importlib.import_module(MODULES + fqcn.rpartition(".")[2])
        args = dict(self._task.args)
        self._update_module_args(fqcn, args, task_vars or {})
        with _module_process(args) as out:
            try:
                module.main()
            except SystemExit:
                pass  # exit_json and fail_json end the module this way, its answer printed
            except Exception as exc:  # pylint: disable=broad-exception-caught
                # What a module process that died of an exception reports.
                result.update(failed=True, msg="MODULE FAILURE: %s" % exc, exception=traceback.format_exc())
                return result
        answer = {"stdout": out.getvalue(), "stderr": "", "rc": 0}
        if len(inspect.signature(self._parse_returned_data).parameters) > 1:
            data = self._parse_returned_data(answer, PROFILE)  # pylint: disable=too-many-function-args
        else:
            data = self._parse_returned_data(answer)
        if not data.get("_ansible_parsed"):
            raise AnsibleActionFail("%s printed no result: %s" % (fqcn, out.getvalue()[-500:]))
        remove_internal_keys(data)
        result.update(data)
        return result
