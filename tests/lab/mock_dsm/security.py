"""Control Panel > Security: trusted proxies, DoS protection, AutoBlock (+ its allow/deny lists),
SmartBlock (account protection) and the 2FA enforcement policy."""

from __future__ import annotations

import ipaddress

from tests.lab.mock_dsm.api import Api
from tests.lab.mock_dsm.errors import ApiError
from tests.lab.mock_dsm.params import boolean, json_value, text

OTP_OPTIONS = ("none", "admin", "user")
PLAIN = {"autoblock": {"enable": bool, "attempts": int, "within_mins": int, "expire_day": int},
         "smartblock": {"enabled": bool, "untrust_try": int, "untrust_minute": int, "untrust_lock": int,
                        "trust_try": int, "trust_minute": int, "trust_lock": int}}


def apis(dsm):
    s = Security(dsm.state)
    return {
        "SYNO.Core.Security.TrustedProxy": Api("entry.cgi", 1, 1, {
            "get": (s.proxies_get, False), "set": (s.proxies_set, True)}),
        "SYNO.Core.Security.DoS": Api("entry.cgi", 1, 2, {"get": (s.dos_get, False), "set": (s.dos_set, True)}),
        "SYNO.Core.Security.AutoBlock": Api("entry.cgi", 1, 1, {
            "get": (s.plain_get("autoblock"), False), "set": (s.plain_set("autoblock"), True)}),
        "SYNO.Core.Security.AutoBlock.Rules": Api("entry.cgi", 1, 1, {
            "list": (s.rules_list, False), "create": (s.rules_create, True), "delete": (s.rules_delete, True)}),
        "SYNO.Core.SmartBlock": Api("entry.cgi", 1, 1, {
            "get": (s.plain_get("smartblock"), False), "set": (s.plain_set("smartblock"), True)}),
        "SYNO.Core.OTP.EnforcePolicy": Api("entry.cgi", 1, 1, {"get": (s.otp_get, False), "set": (s.otp_set, True)}),
    }


def _network(value):
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except (TypeError, ValueError):
        raise ApiError(101)


class Security:
    def __init__(self, state):
        self.state = state

    @property
    def security(self):
        return self.state.data["security"]

    def proxies_get(self, request):
        return {"proxies": list(self.security["trusted_proxies"])}

    def proxies_set(self, request):
        proxies = json_value(request.param("proxies"))
        if not isinstance(proxies, list):
            raise ApiError(101)
        self.security["trusted_proxies"] = [_network(p) for p in proxies]
        self.state.save()
        return {}

    def dos_get(self, request):
        dos = self.security["dos"]
        wanted = json_value(request.param("configs", "[]")) or [{"adapter": a} for a in dos]
        return {"configs": [{"adapter": c.get("adapter"), "dos_protect_enable": dos.get(c.get("adapter"), False)}
                            for c in wanted if c.get("adapter") in dos]}

    def dos_set(self, request):
        configs = json_value(request.param("configs"))
        if not isinstance(configs, list) or any(c.get("adapter") not in self.security["dos"] for c in configs):
            raise ApiError(101)
        for config in configs:
            self.security["dos"][config["adapter"]] = bool(config.get("dos_protect_enable"))
        self.state.save()
        return {}

    def plain_get(self, key):
        return lambda request: dict(self.security[key])

    def plain_set(self, key):
        def handler(request):
            update = {}
            for field, kind in PLAIN[key].items():
                value = request.param(field)
                if value is None:
                    continue
                value = json_value(value)
                if kind is bool:
                    value = boolean(value)
                if kind is int and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                    raise ApiError(101)
                update[field] = value
            self.security[key].update(update)
            self.state.save()
            return {}
        return handler

    def rules_list(self, request):
        kind = request.param("type", "deny")
        return {"rules": [{"ip": ip, "type": kind} for ip in self.security["autoblock_lists"].get(kind, [])]}

    def rules_create(self, request):
        kind = request.param("type")
        if kind not in ("allow", "deny"):
            raise ApiError(101)
        ip = _network(request.param("ip"))
        entries = self.security["autoblock_lists"][kind]
        if ip not in entries:
            entries.append(ip)
        self.state.save()
        return {}

    def rules_delete(self, request):
        entries = self.security["autoblock_lists"].get(request.param("type"))
        ip = _network(request.param("ip"))
        if entries is None or ip not in entries:
            raise ApiError(101)
        entries.remove(ip)
        self.state.save()
        return {}

    def otp_get(self, request):
        return {"otp_enforce_option": self.security["otp_enforce_option"]}

    def otp_set(self, request):
        option = text(request.param("otp_enforce_option", ""))
        if option not in OTP_OPTIONS:
            raise ApiError(101)
        self.security["otp_enforce_option"] = option
        self.state.save()
        return {}
