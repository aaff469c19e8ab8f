# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Attributes shared by the modules of this collection; the API fragments add the action group."""

    DOCUMENTATION = r"""
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
  action_group:
    description: Use C(group/homelab.nas.<api>) in C(module_defaults) to set the connection options once.
"""

    # A module that changes things, with full check mode and diff support.
    FULL = r"""
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
"""

    INFO_MODULE = r"""
attributes:
  check_mode:
    support: full
    details: This action does not modify state.
  diff_mode:
    support: N/A
    details: This action does not modify state.
"""

    ROUTER_GROUP = r"""
attributes:
  action_group:
    support: full
    membership:
      - homelab.nas.router
"""
