# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: failed_probes
short_description: The hostnames a tls_probe_info task probed that gave no answer or an error answer, in words
version_added: 1.0.0
description:
  - Reads the RV(homelab.nas.tls_probe_info#module:probes) of one M(homelab.nas.tls_probe_info) task and returns
    one line per hostname that got no HTTP answer or one of 400 and above, saying what it got. An empty list
    means every hostname answered.
  - The C(homelab.nas.nginx_patches) role retries its step checks until this is empty.
author:
  - homelab.nas maintainers (@homelab-nas)
options:
  _input:
    description:
      - The RV(homelab.nas.tls_probe_info#module:probes) of a task with
        O(homelab.nas.tls_probe_info#module:server_names).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Every hostname answers
  ansible.builtin.assert:
    that: probed.probes | homelab.nas.failed_probes | length == 0
    fail_msg: "{{ probed.probes | homelab.nas.failed_probes | join('; ') }}"
"""

RETURN = r"""
_value:
  description: One line per failing hostname, for example C(photos.example.com answered HTTP 400).
  type: list
  elements: str
"""

from ansible_collections.homelab.nas.plugins.module_utils.verify_checks import failed_probes


class FilterModule:
    def filters(self):
        return {"failed_probes": failed_probes}
