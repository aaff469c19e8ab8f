"""Control Panel > Security: trusted proxies (SYNO.Core.Security.DSM.Proxy), DoS protection, AutoBlock
(+ its allow/deny lists), SmartBlock (account protection) and the 2FA enforcement policy.

Shapes per docs/lab-fidelity.md: dsmctl's live DSM 7.3 reads and writes for AutoBlock, its Rules,
SmartBlock and OTP.EnforcePolicy; PM's DSM 7.4 probes for DSM.Proxy (`proxylist`), DoS (114 without
`configs`) and AutoBlock.Rules (5100/5103 without parameters).
"""

from __future__ import annotations

import ipaddress
import time

from tests.lab.mock_dsm.api import Api
from tests.lab.mock_dsm.errors import ApiError
from tests.lab.mock_dsm.params import boolean, invalid, json_value, required, text

OTP_OPTIONS = ("none", "admin", "user")
LIST_TYPES = ("allow", "deny")
PLAIN = {"autoblock": {"enable": bool, "attempts": int, "within_mins": int, "expire_day": int},
         "smartblock": {"enabled": bool, "untrust_try": int, "untrust_minute": int, "untrust_lock": int,
                        "trust_try": int, "trust_minute": int, "trust_lock": int}}


def apis(dsm):
    s = Security(dsm.state)
    return {
        "SYNO.Core.Security.DSM.Proxy": Api("entry.cgi", 1, 1, {
            "get": (s.proxies_get, False), "set": (s.proxies_set, True)}),
        "SYNO.Core.Security.DoS": Api("entry.cgi", 1, 2, {"get": (s.dos_get, False), "set": (s.dos_set, True)}),
        "SYNO.Core.Security.AutoBlock": Api("entry.cgi", 1, 1, {
            "get": (s.plain_get("autoblock"), False), "set": (s.plain_set("autoblock"), True)}),
        "SYNO.Core.Security.AutoBlock.Rules": Api("entry.cgi", 1, 1, {
            "list": (s.rules_list, False), "get": (s.rules_get, False), "create": (s.rules_create, True),
            "delete": (s.rules_delete, True), "set": (s.rules_set, True)}),
        "SYNO.Core.SmartBlock": Api("entry.cgi", 1, 1, {
            "get": (s.plain_get("smartblock"), False), "set": (s.plain_set("smartblock"), True)}),
        "SYNO.Core.OTP.EnforcePolicy": Api("entry.cgi", 1, 1, {"get": (s.otp_get, False), "set": (s.otp_set, True)}),
    }


def _network(value, name="ip"):
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except (TypeError, ValueError):
        raise invalid(name)


def _listed(network):
    """DSM lists a single address without a prefix."""
    return network.split("/")[0] if network.endswith(("/32", "/128")) else network


class Security:
    def __init__(self, state):
        self.state = state

    @property
    def security(self):
        return self.state.data["security"]

    # -- trusted proxies -----------------------------------------------------------
    def proxies_get(self, request):
        return {"proxylist": list(self.security["trusted_proxies"])}

    def proxies_set(self, request):
        """The write field is not published; `proxylist` mirrors what get answers (docs/lab-fidelity.md)."""
        proxies = json_value(required(request, "proxylist"), "proxylist")
        if not isinstance(proxies, list):
            raise invalid("proxylist")
        self.security["trusted_proxies"] = [_network(p, "proxylist") for p in proxies]
        self.state.save()
        return {}

    # -- DoS -------------------------------------------------------------------------
    def dos_get(self, request):
        dos = self.security["dos"]
        wanted = json_value(required(request, "configs"), "configs")
        if not isinstance(wanted, list) or not all(isinstance(c, dict) for c in wanted):
            raise invalid("configs")
        # A bare array, as N4S4's branch sample and a JSON schema show it.
        return [{"adapter": c.get("adapter"), "dos_protect_enable": dos[c.get("adapter")]}
                for c in wanted if c.get("adapter") in dos]

    def dos_set(self, request):
        configs = json_value(required(request, "configs"), "configs")
        if not isinstance(configs, list) or any(not isinstance(c, dict) or c.get("adapter") not in self.security["dos"]
                                                for c in configs):
            raise invalid("configs")
        for config in configs:
            self.security["dos"][config["adapter"]] = bool(config.get("dos_protect_enable"))
        self.state.save()
        return {}

    # -- AutoBlock, SmartBlock ---------------------------------------------------------
    def plain_get(self, key):
        return lambda request: dict(self.security[key])

    def plain_set(self, key):
        def handler(request):
            update = {}
            for field, kind in PLAIN[key].items():
                value = request.param(field)
                if value is None:
                    continue
                value = json_value(value, field)
                if kind is bool:
                    value = boolean(value)
                if kind is int and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                    raise invalid(field)
                update[field] = value
            self.security[key].update(update)
            self.state.save()
            return {}
        return handler

    # -- AutoBlock allow/deny lists ----------------------------------------------------------
    def _entries(self, kind):
        return self.security["autoblock_lists"][kind]

    def rules_list(self, request):
        """dsmctl's live envelope {ip_info, offset, total}; without `type` DSM answers 5100."""
        kind = text(request.param("type"), "type")
        if kind not in LIST_TYPES:
            raise ApiError(5100)
        entries = [self._describe(e) for e in self._entries(kind)]
        return {"ip_info": entries, "offset": 0, "total": len(entries)}

    @staticmethod
    def _describe(entry):
        return {"ip": _listed(entry["ip"]), "reason": entry["reason"], "record_time": entry["record_time"]}

    def rules_get(self, request):
        """Probed on DSM 7.4: 5103 without parameters. Its signature is unknown; with type and ip the
        lab answers that entry (the lab's choice)."""
        kind, ip = text(request.param("type"), "type"), request.param("ip")
        if kind not in LIST_TYPES or ip is None:
            raise ApiError(5103)
        wanted = _network(ip)
        found = [self._describe(e) for e in self._entries(kind) if e["ip"] == wanted]
        if not found:
            raise ApiError(5103)
        return {"ip_info": found}

    def _rule_args(self, request):
        """Either dsmctl's live `{type, ip}` (one entry) or N4S4's `rules=<JSON list of {type, ip}>`."""
        rules = request.param("rules")
        if rules is not None:
            rules = json_value(rules, "rules")
            if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
                raise invalid("rules")
            pairs = [(r.get("type"), r.get("ip")) for r in rules]
        else:
            pairs = [(text(required(request, "type"), "type"), required(request, "ip"))]
        out = []
        for kind, ip in pairs:
            if kind not in LIST_TYPES:
                raise invalid("type")
            out.append((kind, _network(ip)))
        return out

    def _add(self, request):
        for kind, network in self._rule_args(request):
            if all(e["ip"] != network for e in self._entries(kind)):
                self._entries(kind).append({"ip": network, "reason": "manual", "record_time": int(time.time())})
        self.state.save()
        return {}

    rules_create = _add
    rules_set = _add

    def rules_delete(self, request):
        pairs = self._rule_args(request)
        for kind, network in pairs:
            if all(e["ip"] != network for e in self._entries(kind)):
                raise invalid("ip", "invalid")
        for kind, network in pairs:
            self.security["autoblock_lists"][kind] = [e for e in self._entries(kind) if e["ip"] != network]
        self.state.save()
        return {}

    # -- 2FA enforcement ------------------------------------------------------------------
    def otp_get(self, request):
        return {"otp_enforce_option": self.security["otp_enforce_option"]}

    def otp_set(self, request):
        option = text(required(request, "otp_enforce_option"), "otp_enforce_option")
        if option not in OTP_OPTIONS:
            raise invalid("otp_enforce_option")
        self.security["otp_enforce_option"] = option
        self.state.save()
        return {}
