# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""homelab.nas.dsm_web runs in the controller's worker, not in a module process of its own.

plugins/plugin_utils/in_process.py says how.
"""

from __future__ import annotations

from ansible_collections.homelab.nas.plugins.plugin_utils.in_process import InProcessAction


class ActionModule(InProcessAction):
    pass
