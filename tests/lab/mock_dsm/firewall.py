"""SYNO.Core.Security.Firewall (get/set), .Firewall.Profile (get/set) and .Profile.Apply (start/status).

The profile envelope as dsmctl saw it on DSM 7.3 (`{"name", "<adapter>": {"policy", "rules"}}`); a
saved profile is in force only once Profile.Apply has run (state `applied`).
"""

from __future__ import annotations

import ipaddress
import json

from tests.lab.mock_dsm.api import Api
from tests.lab.mock_dsm.errors import ApiError
from tests.lab.mock_dsm.params import boolean, json_value, text

FW_POLICIES = ("allow", "deny")
FW_PROTOCOLS = ("all", "tcp", "udp", "tcp_udp", "icmp")
FW_SOURCE_GROUPS = ("all", "ip", "subnet", "range")


def apis(dsm):
    fw = Firewall(dsm.state)
    return {
        "SYNO.Core.Security.Firewall": Api("entry.cgi", 1, 1, {"get": (fw.get, False), "set": (fw.set, True)}),
        "SYNO.Core.Security.Firewall.Profile": Api("entry.cgi", 1, 1, {
            "get": (fw.profile_get, False), "set": (fw.profile_set, True)}),
        "SYNO.Core.Security.Firewall.Profile.Apply": Api("entry.cgi", 1, 1, {
            "start": (fw.apply_start, True), "status": (fw.apply_status, False)}),
    }


class Firewall:
    def __init__(self, state):
        self.state = state

    @property
    def fw(self):
        return self.state.data["firewall"]

    def get(self, request):
        return {"enable_firewall": self.fw["enable_firewall"], "profile_name": self.fw["profile_name"]}

    def set(self, request):
        if request.param("enable_firewall") is not None:
            self.fw["enable_firewall"] = boolean(request.param("enable_firewall"))
        name = request.param("profile_name")
        if name is not None:
            name = text(name)
            if name not in self.fw["profiles"]:
                raise ApiError(101)
            self.fw["profile_name"] = name
        self.state.save()
        return {}

    def profile_get(self, request):
        profile = self.fw["profiles"].get(text(request.param("name", "")))
        if profile is None:
            raise ApiError(101)
        return {"profile": profile}

    def profile_set(self, request):
        profile = json_value(request.param("profile"))
        if not isinstance(profile, dict) or not profile.get("name"):
            raise ApiError(101)
        for adapter, body in profile.items():
            if adapter == "name":
                continue
            if not isinstance(body, dict) or body.get("policy") not in FW_POLICIES or \
                    not isinstance(body.get("rules"), list):
                raise ApiError(101)
            for rule in body["rules"]:
                _check_rule(rule)
        self.fw["profiles"][profile["name"]] = profile
        self.fw["pending"] = profile["name"]
        self.state.save()
        return {}

    def apply_start(self, request):
        name = text(request.param("name", ""))
        if name not in self.fw["profiles"]:
            raise ApiError(101)
        self.fw["applied"] = json.loads(json.dumps(self.fw["profiles"][name]))
        self.fw.pop("pending", None)
        self.state.save()
        return {"task_id": "fw-apply-1"}

    def apply_status(self, request):
        return {"finish": True}


def _check_rule(rule):
    if rule.get("policy") not in FW_POLICIES or rule.get("protocol") not in FW_PROTOCOLS or \
            rule.get("source_ip_group") not in FW_SOURCE_GROUPS:
        raise ApiError(101)
    if rule.get("port_group") == "custom":
        for part in str(rule.get("ports", "")).split(","):
            low, _dash, high = part.partition("-")
            if not low.isdigit() or not 1 <= int(low) <= 65535 or (high and not 1 <= int(high) <= 65535):
                raise ApiError(101)
    try:
        if rule["source_ip_group"] == "ip":
            ipaddress.ip_address(rule["source_ip"])
        elif rule["source_ip_group"] == "subnet":
            ipaddress.ip_network(rule["source_ip"], strict=True)
        elif rule["source_ip_group"] == "range":
            first, last = rule["source_ip"].split("-")
            ipaddress.ip_address(first), ipaddress.ip_address(last)
    except (KeyError, ValueError):
        raise ApiError(101)
