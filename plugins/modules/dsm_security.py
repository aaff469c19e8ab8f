#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dsm_security
short_description: DSM's trusted proxies, DoS protection, auto-block, account protection and 2FA policy
version_added: 0.1.0
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
      - Managed through C(SYNO.Core.Security.DSM.Proxy) (C(get) answers C(proxylist), probed on DSM 7.4). The
        field DSM reads on C(set) is not published; the module sends C(proxylist) as a JSON array, mirroring C(get).
    type: list
    elements: str
  dos_protection:
    description: "DoS protection per network interface, for example V({eth0: true})."
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
        description: Addresses or networks never blocked (exactly this list).
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
    description: Who must use 2-step verification.
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

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.homelab.nas.plugins.module_utils.dsm_module import DsmModule
from ansible_collections.homelab.nas.plugins.module_utils import dsm_validate as v

PROXY_API = "SYNO.Core.Security.DSM.Proxy"
OTP_VALUES = {"none": "none", "administrators": "admin", "all": "user"}
OTP_NAMES = {value: name for name, value in OTP_VALUES.items()}
AUTOBLOCK_FIELDS = {"enabled": "enable", "attempts": "attempts", "within_minutes": "within_mins",
                    "expire_days": "expire_day"}
SMARTBLOCK_FIELDS = {"enabled": "enabled", "untrusted_attempts": "untrust_try", "untrusted_within_minutes": "untrust_minute",
                     "untrusted_lock_minutes": "untrust_lock", "trusted_attempts": "trust_try",
                     "trusted_within_minutes": "trust_minute", "trusted_lock_minutes": "trust_lock"}


def desired(params):
    """Validated wanted state, by section; sections not given are not managed."""
    want = {}
    if params["trusted_proxies"] is not None:
        want["trusted_proxies"] = sorted({v.cidr("trusted_proxies[%d]" % i, c)
                                          for i, c in enumerate(params["trusted_proxies"])})
    if params["dos_protection"] is not None:
        want["dos_protection"] = {}
        for adapter, enabled in params["dos_protection"].items():
            if not isinstance(enabled, bool):
                raise v.InputError("dos_protection.%s: '%s' is not true or false" % (adapter, enabled))
            want["dos_protection"][str(adapter)] = enabled
    for section, fields in (("auto_block", AUTOBLOCK_FIELDS), ("account_protection", SMARTBLOCK_FIELDS)):
        given = params[section]
        if given is None:
            continue
        for name in fields:
            if name != "enabled" and given[name] < (0 if name == "expire_days" else 1):
                raise v.InputError("%s.%s: %s is out of range; use a positive number" % (section, name, given[name]))
        want[section] = {name: given[name] for name in fields}
        for listed in ("allow_list", "block_list"):
            if section == "auto_block" and given.get(listed) is not None:
                want[section][listed] = sorted({v.cidr("auto_block.%s[%d]" % (listed, i), c)
                                                for i, c in enumerate(given[listed])})
    if params["two_factor_enforcement"] is not None:
        want["two_factor_enforcement"] = params["two_factor_enforcement"]
    return want


def _short(network):
    """DSM lists single addresses without a prefix."""
    return network.split("/")[0] if network.endswith(("/32", "/128")) else network


def read(client, want):
    """Current state of the wanted sections, with one compound request."""
    calls = []
    if "trusted_proxies" in want:
        calls.append(("trusted_proxies", (PROXY_API, "get", 1, {})))
    if "dos_protection" in want:
        calls.append(("dos_protection", ("SYNO.Core.Security.DoS", "get", 2,
                                         {"configs": [{"adapter": a} for a in sorted(want["dos_protection"])]})))
    if "auto_block" in want:
        calls.append(("auto_block", ("SYNO.Core.Security.AutoBlock", "get", 1, {})))
        calls.append(("allow_list", ("SYNO.Core.Security.AutoBlock.Rules", "list", 1, {"type": "allow"})))
        calls.append(("block_list", ("SYNO.Core.Security.AutoBlock.Rules", "list", 1, {"type": "deny"})))
    if "account_protection" in want:
        calls.append(("account_protection", ("SYNO.Core.SmartBlock", "get", 1, {})))
    if "two_factor_enforcement" in want:
        calls.append(("two_factor_enforcement", ("SYNO.Core.OTP.EnforcePolicy", "get", 1, {})))
    raw = dict(zip([name for name, call in calls], client.batch([call for name, call in calls]))) if calls else {}
    have = {}
    if "trusted_proxies" in raw:
        have["trusted_proxies"] = sorted({v.cidr("DSM's trusted proxies", c) for c in raw["trusted_proxies"].get("proxylist") or []})
    if "dos_protection" in raw:
        # Sources disagree on the shape: a bare array (N4S4's branch sample, a JSON schema) or {"configs": [...]}.
        configs = raw["dos_protection"]
        configs = configs.get("configs") or [] if isinstance(configs, dict) else configs
        known = {c["adapter"]: bool(c.get("dos_protect_enable")) for c in configs}
        have["dos_protection"] = known
    if "auto_block" in raw:
        have["auto_block"] = {name: raw["auto_block"].get(key) for name, key in AUTOBLOCK_FIELDS.items()}
        for listed in ("allow_list", "block_list"):
            if listed in want["auto_block"]:
                # DSM lists the entries as `ip_info` (dsmctl, live on DSM 7.3).
                have["auto_block"][listed] = sorted(v.cidr(listed, r["ip"]) for r in raw[listed].get("ip_info") or [])
    if "account_protection" in raw:
        have["account_protection"] = {name: raw["account_protection"].get(key) for name, key in SMARTBLOCK_FIELDS.items()}
    if "two_factor_enforcement" in raw:
        have["two_factor_enforcement"] = OTP_NAMES.get(raw["two_factor_enforcement"].get("otp_enforce_option"))
    return have


def apply(client, want, have):
    if want.get("trusted_proxies") not in (None, have.get("trusted_proxies")):
        client.write(PROXY_API, "set", 1, proxylist=want["trusted_proxies"])
    if "dos_protection" in want and want["dos_protection"] != have["dos_protection"]:
        client.write("SYNO.Core.Security.DoS", "set", 2, configs=[
            {"adapter": a, "dos_protect_enable": e} for a, e in sorted(want["dos_protection"].items())])
    if "auto_block" in want:
        settings = {k: want["auto_block"][k] for k in AUTOBLOCK_FIELDS}
        if settings != {k: have["auto_block"][k] for k in AUTOBLOCK_FIELDS}:
            client.write("SYNO.Core.Security.AutoBlock", "set", 1,
                         **{AUTOBLOCK_FIELDS[k]: value for k, value in settings.items()})
        for listed, kind in (("allow_list", "allow"), ("block_list", "deny")):
            if listed not in want["auto_block"]:
                continue
            wanted, current = set(want["auto_block"][listed]), set(have["auto_block"][listed])
            for network in sorted(current - wanted):
                client.write("SYNO.Core.Security.AutoBlock.Rules", "delete", 1, type=kind, ip=_short(network))
            for network in sorted(wanted - current):
                client.write("SYNO.Core.Security.AutoBlock.Rules", "create", 1, type=kind, ip=_short(network))
    if "account_protection" in want and want["account_protection"] != have["account_protection"]:
        client.write("SYNO.Core.SmartBlock", "set", 1,
                     **{SMARTBLOCK_FIELDS[k]: value for k, value in want["account_protection"].items()})
    if "two_factor_enforcement" in want and want["two_factor_enforcement"] != have["two_factor_enforcement"]:
        client.write("SYNO.Core.OTP.EnforcePolicy", "set", 1,
                     otp_enforce_option=OTP_VALUES[want["two_factor_enforcement"]])


def run(mod, want):
    have = read(mod.client, want)
    if "dos_protection" in want:
        unknown = sorted(set(want["dos_protection"]) - set(have["dos_protection"]))
        if unknown:
            mod.fail_json(msg="dos_protection: DSM reports no interface %s; use DSM's interface names, such as eth0, "
                              "eth1, bond0, ovs_eth0 or pppoe (Control Panel > Network > Network Interface)"
                              % ", ".join(unknown))
        have["dos_protection"] = {a: have["dos_protection"][a] for a in want["dos_protection"]}
    result = dict(changed=want != have, security=want)
    if mod._diff:
        result["diff"] = dict(before=have, after=want)
    if result["changed"] and not mod.check_mode:
        apply(mod.client, want, have)
    return result


def main():
    def numbers(**defaults):
        return {k: dict(type="int", default=d) for k, d in defaults.items()}
    module = DsmModule(
        argument_spec=dict(
            trusted_proxies=dict(type="list", elements="str"),
            dos_protection=dict(type="dict"),
            auto_block=dict(type="dict", options=dict(
                enabled=dict(type="bool", default=True),
                allow_list=dict(type="list", elements="str"),
                block_list=dict(type="list", elements="str"),
                **numbers(attempts=10, within_minutes=5, expire_days=0))),
            account_protection=dict(type="dict", options=dict(
                enabled=dict(type="bool", default=True),
                **numbers(untrusted_attempts=5, untrusted_within_minutes=1, untrusted_lock_minutes=30,
                          trusted_attempts=10, trusted_within_minutes=1, trusted_lock_minutes=30))),
            two_factor_enforcement=dict(type="str", choices=["none", "administrators", "all"]),
        ),
        supports_check_mode=True,
    )
    if not v.HAS_NETADDR:
        module.fail_json(msg=missing_required_lib("netaddr"), exception=str(v.NETADDR_IMPORT_ERROR))
    try:
        want = desired(module.params)
    except v.InputError as exc:
        module.fail_json(msg=str(exc))
    module.run(lambda mod: run(mod, want))


if __name__ == "__main__":
    main()
