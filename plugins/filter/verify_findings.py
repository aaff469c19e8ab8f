# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: verify_findings
short_description: What the verify role's probes saw, and what each of its checks found wrong
version_added: 1.0.0
description:
  - Reads the RV(homelab.nas.tls_probe_info#module:probes) of the C(homelab.nas.verify) role's four probe tasks
    and returns, for every hostname, the lines a person reads (what a visitor and an attacker saw, both
    certificates) and, per check, one message for each hostname that fails it.
  - The checks are C(tls) (answered through Cloudflare over TLS 1.2 or newer), C(old_tls) (a client offering
    only older TLS is refused), C(hsts) (the header as configured), C(redirect) (plain http:// redirects to
    https://), C(certificates) (the edge's and the origin's cover the hostname and are not near expiry) and
    C(origin_pulls) (without Cloudflare's client certificate, the origin refuses).
  - Pure; it reads nothing. The role asserts each check's list is empty.
author:
  - homelab.nas maintainers (@homelab-nas)
options:
  _input:
    description:
      - A dictionary with the keys C(hostnames), C(visitors), C(old_clients), C(plain) and C(attackers) (the
        probes; C(plain) and C(attackers) none or empty when not probed), C(min_tls_version) and C(older_tls)
        (the highest version the old client offered), C(hsts) (the expected header as the tls role's
        C(tls_hsts), or none to leave it unchecked), C(https_redirect) and C(origin_pulls) (whether to check
        them), C(origin) (C(address:port), for messages), C(certificate_min_days) and C(cloudflare_errors)
        (an HTTP status to what it means, for messages).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: What the probes found
  ansible.builtin.set_fact:
    findings: "{{ {'hostnames': ['photos.example.com'], 'visitors': visitors.probes,
                   'old_clients': old_clients.probes, 'min_tls_version': '1.2', 'older_tls': '1.1'}
                  | homelab.nas.verify_findings }}"

- name: Each hostname answers over TLS 1.2 or newer
  ansible.builtin.assert:
    that: findings.failures.tls | length == 0
    fail_msg: "{{ findings.failures.tls }}"
"""

RETURN = r"""
_value:
  description: The findings.
  type: dict
  contains:
    seen:
      description: Five lines per hostname, in the order of C(hostnames).
      type: list
      elements: str
    failures:
      description: Per check (every one of the six is a key), one message per hostname failing it.
      type: dict
"""

from ansible_collections.homelab.nas.plugins.module_utils.verify_checks import verify_findings


class FilterModule:
    def filters(self):
        return {"verify_findings": verify_findings}
