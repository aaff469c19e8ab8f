# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""DSM's security APIs (trusted proxies, DoS protection, auto block and its lists, account protection,
2FA enforcement): the module's sections <-> DSM's fields, read in one compound request."""

from __future__ import annotations

from ansible_collections.homelab.nas.plugins.module_utils import dsm_validate as v

PROXY_API = "SYNO.Core.Security.DSM.Proxy"
DOS_API = "SYNO.Core.Security.DoS"
AUTOBLOCK_API = "SYNO.Core.Security.AutoBlock"
AUTOBLOCK_RULES_API = "SYNO.Core.Security.AutoBlock.Rules"
SMARTBLOCK_API = "SYNO.Core.SmartBlock"
OTP_API = "SYNO.Core.OTP.EnforcePolicy"
OTP_VALUES = {"none": "none", "administrators": "admin", "all": "user"}
OTP_NAMES = {value: name for name, value in OTP_VALUES.items()}
AUTOBLOCK_FIELDS = {
    "enabled": "enable",
    "attempts": "attempts",
    "within_minutes": "within_mins",
    "expire_days": "expire_day",
}
SMARTBLOCK_FIELDS = {
    "enabled": "enabled",
    "untrusted_attempts": "untrust_try",
    "untrusted_within_minutes": "untrust_minute",
    "untrusted_lock_minutes": "untrust_lock",
    "trusted_attempts": "trust_try",
    "trusted_within_minutes": "trust_minute",
    "trusted_lock_minutes": "trust_lock",
}


def desired(params):
    """Validated wanted state, by section; sections not given are not managed."""
    want = {}
    if params["trusted_proxies"] is not None:
        want["trusted_proxies"] = sorted(
            {v.trusted_network("trusted_proxies[%d]" % i, c) for i, c in enumerate(params["trusted_proxies"])}
        )
    if params["dos_protection"] is not None:
        want["dos_protection"] = {}
        for adapter, enabled in params["dos_protection"].items():
            v.interface("dos_protection.%s" % adapter, adapter)
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
                # An allow list is never blocked, so it is bounded as trust is; a block list may be wide.
                check = v.trusted_network if listed == "allow_list" else v.cidr
                want[section][listed] = sorted(
                    {check("auto_block.%s[%d]" % (listed, i), c) for i, c in enumerate(given[listed])}
                )
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
        calls.append(
            (
                "dos_protection",
                (DOS_API, "get", 2, {"configs": [{"adapter": a} for a in sorted(want["dos_protection"])]}),
            )
        )
    if "auto_block" in want:
        calls.append(("auto_block", (AUTOBLOCK_API, "get", 1, {})))
        calls.append(("allow_list", (AUTOBLOCK_RULES_API, "list", 1, {"type": "allow"})))
        calls.append(("block_list", (AUTOBLOCK_RULES_API, "list", 1, {"type": "deny"})))
    if "account_protection" in want:
        calls.append(("account_protection", (SMARTBLOCK_API, "get", 1, {})))
    if "two_factor_enforcement" in want:
        calls.append(("two_factor_enforcement", (OTP_API, "get", 1, {})))
    raw = dict(zip([name for name, call in calls], client.batch([call for name, call in calls]))) if calls else {}
    have = {}
    if "trusted_proxies" in raw:
        have["trusted_proxies"] = sorted(
            {v.cidr("DSM's trusted proxies", c) for c in raw["trusted_proxies"].get("proxylist") or []}
        )
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
        have["account_protection"] = {
            name: raw["account_protection"].get(key) for name, key in SMARTBLOCK_FIELDS.items()
        }
    if "two_factor_enforcement" in raw:
        have["two_factor_enforcement"] = OTP_NAMES.get(raw["two_factor_enforcement"].get("otp_enforce_option"))
    return have


def apply(client, want, have):
    if want.get("trusted_proxies") not in (None, have.get("trusted_proxies")):
        client.write(PROXY_API, "set", 1, proxylist=want["trusted_proxies"])
    if "dos_protection" in want and want["dos_protection"] != have["dos_protection"]:
        client.write(
            DOS_API,
            "set",
            2,
            configs=[{"adapter": a, "dos_protect_enable": e} for a, e in sorted(want["dos_protection"].items())],
        )
    if "auto_block" in want:
        settings = {k: want["auto_block"][k] for k in AUTOBLOCK_FIELDS}
        if settings != {k: have["auto_block"][k] for k in AUTOBLOCK_FIELDS}:
            client.write(AUTOBLOCK_API, "set", 1, **{AUTOBLOCK_FIELDS[k]: value for k, value in settings.items()})
        for listed, kind in (("allow_list", "allow"), ("block_list", "deny")):
            if listed not in want["auto_block"]:
                continue
            wanted, current = set(want["auto_block"][listed]), set(have["auto_block"][listed])
            for network in sorted(current - wanted):
                client.write(AUTOBLOCK_RULES_API, "delete", 1, type=kind, ip=_short(network))
            for network in sorted(wanted - current):
                client.write(AUTOBLOCK_RULES_API, "create", 1, type=kind, ip=_short(network))
    if "account_protection" in want and want["account_protection"] != have["account_protection"]:
        client.write(
            SMARTBLOCK_API, "set", 1, **{SMARTBLOCK_FIELDS[k]: value for k, value in want["account_protection"].items()}
        )
    if "two_factor_enforcement" in want and want["two_factor_enforcement"] != have["two_factor_enforcement"]:
        client.write(OTP_API, "set", 1, otp_enforce_option=OTP_VALUES[want["two_factor_enforcement"]])
