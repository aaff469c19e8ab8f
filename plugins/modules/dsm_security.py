#!/usr/bin/python
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dsm_security
short_description: DSM's trusted proxies, DoS protection, auto-block, account protection and 2FA policy
version_added: 1.0.0
description:
  - Brings Control Panel > Security's protections to the declared state. Only the options given are managed.
  - Reads everything it manages with one request.
author:
  - homelab.nas maintainers (@homelab-nas)
extends_documentation_fragment:
  - homelab.nas.dsm
  - homelab.nas.attributes
  - homelab.nas.attributes.full
options:
  trusted_proxies:
    description:
      - Networks whose C(X-Forwarded-For) DSM believes (for example Cloudflare's ranges from
        M(homelab.nas.cloudflare_ips_info)). IPv4 and IPv6 CIDRs; compared as sets.
      - Nothing wider than /8 (IPv4) or /16 (IPv6) outside private address space is accepted, so V(0.0.0.0/0)
        and V(::/0), which would let anyone set the client's address, are refused before any request.
      - Managed through C(SYNO.Core.Security.DSM.Proxy) (C(get) answers C(proxylist), probed on DSM 7.4). The
        field DSM reads on C(set) is not published; the module sends C(proxylist) as a JSON array, mirroring C(get).
    type: list
    elements: str
  dos_protection:
    description:
      - "DoS protection per network interface, for example V({eth0: true})."
      - Interface names are DSM's (V(eth0), V(bond0), V(ovs_eth0), V(pppoe)...); a name of another shape, or one
        DSM does not report, is refused.
    type: dict
  auto_block:
    description: Block addresses after repeated failed logins.
    type: dict
    suboptions:
      enabled:
        description: Turn auto-block on.
        type: bool
        default: true
      attempts:
        description: Failed logins that trigger a block.
        type: int
        default: 10
      within_minutes:
        description: Within this many minutes.
        type: int
        default: 5
      expire_days:
        description: Days a block lasts; V(0) never expires.
        type: int
        default: 0
      allow_list:
        description:
          - Addresses or networks never blocked (exactly this list); bounded like O(trusted_proxies).
        type: list
        elements: str
      block_list:
        description: Addresses or networks always blocked (exactly this list).
        type: list
        elements: str
  account_protection:
    description: Lock accounts after failed logins from untrusted and trusted clients (SmartBlock).
    type: dict
    suboptions:
      enabled:
        description: Turn account protection on.
        type: bool
        default: true
      untrusted_attempts:
        description: Failed logins from an untrusted client before it is locked out.
        type: int
        default: 5
      untrusted_within_minutes:
        description: Within this many minutes.
        type: int
        default: 1
      untrusted_lock_minutes:
        description: Lock-out length for untrusted clients.
        type: int
        default: 30
      trusted_attempts:
        description: Failed logins from a trusted client before the account is protected.
        type: int
        default: 10
      trusted_within_minutes:
        description: Within this many minutes.
        type: int
        default: 1
      trusted_lock_minutes:
        description: Protection length for trusted clients.
        type: int
        default: 30
  two_factor_enforcement:
    description:
      - Who must use 2-step verification.
      - Refused before any write when it covers the account this task logs in with (O(username)), unless that
        account can still log in unattended afterwards, that is it has 2-step verification and this controller
        has a device token DSM accepts (O(device_id), or one saved by a login with O(enable_device_token));
        a login with the token and no code is tried to prove it. DSM would otherwise answer 406 (no 2FA) or ask
        for a code on every later run.
    type: str
    choices: [none, administrators, all]
"""

EXAMPLES = r"""
- name: Cloudflare in front, protections on, 2FA for administrators
  homelab.nas.dsm_security:
    trusted_proxies: "{{ cloudflare.all }}"
    dos_protection: {eth0: true}
    auto_block: {attempts: 5, within_minutes: 5, allow_list: [192.168.1.0/24]}
    account_protection: {}
    two_factor_enforcement: administrators
"""

RETURN = r"""
security:
  description: The managed settings after the task (planned values in check mode).
  returned: always
  type: dict
  sample: {trusted_proxies: [173.245.48.0/20], dos_protection: {eth0: true}, two_factor_enforcement: administrators}
"""

from ansible_collections.homelab.nas.plugins.module_utils import dsm_security as security, dsm_validate as v
from ansible_collections.homelab.nas.plugins.module_utils.dsm_module import DsmModule
from ansible_collections.homelab.nas.plugins.module_utils.dsm_system import DsmSystem

DEVICE_TOKEN_HOWTO = (
    "turn on 2-step verification for it in DSM, then log in once with a code so this controller keeps a device "
    "token (ansible-playbook -i INVENTORY playbooks/dsm_login.yml; docs/real-nas.md) and run again"
)


def refuse_lockout(mod, want, have):
    """2FA enforcement that covers the account this task logs in with is refused, before any write, unless that
    account can still log in unattended afterwards: it has 2FA and a device token DSM accepts."""
    wanted = want.get("two_factor_enforcement")
    if wanted in (None, "none") or wanted == have.get("two_factor_enforcement"):
        return
    client = mod.client
    account = DsmSystem(client).account(client.username)
    if account is None or (wanted == "administrators" and not account["administrator"]):
        return
    who = "everyone" if wanted == "all" else "administrators"
    if not account["two_factor"]:
        why = "it has no 2-step verification, so DSM would answer 406 to its next login"
    elif not client.device_token():
        why = "this controller has no device token for it, so every later login would need a fresh code"
    elif not client.device_login_works():
        why = "DSM does not accept this controller's device token for it (forgotten or revoked)"
    else:
        return
    mod.fail_json(
        msg="two_factor_enforcement: %s would enforce 2-step verification for %s, which includes '%s', the account "
        "this task logs in with, and %s. Either %s; or log in with an account it does not cover; or keep "
        "two_factor_enforcement: %s (hardening_two_factor)"
        % (wanted, who, client.username, why, DEVICE_TOKEN_HOWTO, have.get("two_factor_enforcement") or "none"),
        changed=False,
    )


def run(mod, want):
    have = security.read(mod.client, want)
    refuse_lockout(mod, want, have)
    if "dos_protection" in want:
        unknown = sorted(set(want["dos_protection"]) - set(have["dos_protection"]))
        if unknown:
            mod.fail_json(
                msg="dos_protection: DSM reports no interface %s; use DSM's interface names, such as eth0, "
                "eth1, bond0, ovs_eth0 or pppoe (Control Panel > Network > Network Interface)" % ", ".join(unknown)
            )
        have["dos_protection"] = {a: have["dos_protection"][a] for a in want["dos_protection"]}
    return mod.converge(have, want, lambda: security.apply(mod.client, want, have), dict(security=want))


def main():
    def numbers(**defaults):
        return {k: dict(type="int", default=d) for k, d in defaults.items()}

    module = DsmModule(
        argument_spec=dict(
            trusted_proxies=dict(type="list", elements="str"),
            dos_protection=dict(type="dict"),
            auto_block=dict(
                type="dict",
                options=dict(
                    enabled=dict(type="bool", default=True),
                    allow_list=dict(type="list", elements="str"),
                    block_list=dict(type="list", elements="str"),
                    **numbers(attempts=10, within_minutes=5, expire_days=0),
                ),
            ),
            account_protection=dict(
                type="dict",
                options=dict(
                    enabled=dict(type="bool", default=True),
                    **numbers(
                        untrusted_attempts=5,
                        untrusted_within_minutes=1,
                        untrusted_lock_minutes=30,
                        trusted_attempts=10,
                        trusted_within_minutes=1,
                        trusted_lock_minutes=30,
                    ),
                ),
            ),
            two_factor_enforcement=dict(type="str", choices=["none", "administrators", "all"]),
        ),
        required_libraries={"netaddr": (v.HAS_NETADDR, v.NETADDR_IMPORT_ERROR)},
        supports_check_mode=True,
    )
    module.run(run, validate=security.desired)


if __name__ == "__main__":
    main()
