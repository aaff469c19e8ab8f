# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""homelab.nas.router_port_forward runs in the controller's worker when its task runs on the controller with the
controller's own Python, and as a module process everywhere else: on the NAS (a router in UPnP secure mode only
takes forwards from the host they point at) or with another interpreter (DSM's Python 3.8, say).

plugins/plugin_utils/in_process.py says how the worker runs a module.
"""

from __future__ import annotations

import os
import shutil
import sys

from ansible.plugins.action import ActionBase

from ansible_collections.homelab.nas.plugins.plugin_utils.in_process import InProcessAction

LOCAL = ("local", "ansible.builtin.local")


class ActionModule(InProcessAction):
    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        if self._on_the_controller(task_vars):
            return super().run(tmp, task_vars)
        # What Ansible's own action for a module does: the module, built and run where the task runs.
        result = ActionBase.run(self, tmp, task_vars)
        result.update(self._execute_module(task_vars=task_vars))
        self._remove_tmp_path(self._connection._shell.tmpdir)  # pylint: disable=protected-access
        return result

    def _on_the_controller(self, task_vars):
        """The task's connection is local and its Python, if one is set, is the one this worker runs."""
        if self._connection.transport not in LOCAL:
            return False
        interpreter = task_vars.get("ansible_python_interpreter")
        if interpreter is None:
            return True
        interpreter = str(self._templar.template(interpreter))
        found = shutil.which(interpreter) or interpreter
        return os.path.realpath(found) == os.path.realpath(sys.executable)
