#!/usr/bin/python
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dsm_session
short_description: Log in to Synology DSM once for a play, or log out at its end
version_added: 1.0.0
description:
  - With O(state=present), makes sure a DSM session is in the session cache, logging in if needed. Put it
    first in a play on a 2FA account with O(otp_code) (and O(enable_device_token)) so the single-use code
    is spent once and every later task reuses the session.
  - With O(state=absent), logs out of DSM and removes the cached session, so no session lingers in DSM's
    list of connected users. The saved device token is kept.
author:
  - homelab.nas maintainers (@homelab-nas)
extends_documentation_fragment:
  - homelab.nas.dsm
  - homelab.nas.attributes
options:
  state:
    description:
      - V(present) to log in (or reuse the cached session), V(absent) to log out.
    type: str
    choices: [present, absent]
    default: present
attributes:
  check_mode:
    support: full
    details: Logging in and out changes no DSM configuration, so it also happens in check mode.
  diff_mode:
    support: none
notes:
  - O(session_cache) must stay enabled for a session to outlive this task.
"""

EXAMPLES = r"""
- name: Log in once with a 2FA code and remember this controller
  homelab.nas.dsm_session:
    otp_code: "{{ otp }}"
    enable_device_token: true

- name: Log out at the end of the play
  homelab.nas.dsm_session:
    state: absent
"""

RETURN = r"""
logged_in:
  description: Whether this task logged in (false when a cached session was reused).
  returned: when state=present
  type: bool
device_token_saved:
  description: Whether a new device token was saved in the session cache (never returned itself).
  returned: when state=present
  type: bool
"""

from ansible_collections.homelab.nas.plugins.module_utils.dsm_module import DsmModule
from ansible_collections.homelab.nas.plugins.module_utils.dsm_system import DsmSystem


def main():
    module = DsmModule(
        argument_spec=dict(state=dict(type="str", default="present", choices=["present", "absent"])),
        supports_check_mode=True,
    )

    def body(mod, _wanted):
        # Logging in and out changes no DSM configuration: no converge, the same in check mode.
        client = mod.client
        if mod.params["state"] == "absent":
            client.logout()
            return dict(changed=False)
        DsmSystem(client).info()  # a cheap authenticated read proves the session (cached or new) is valid
        return dict(changed=False, logged_in=client.logins > 0, device_token_saved=client.device_token_saved)

    module.run(body)


if __name__ == "__main__":
    main()
