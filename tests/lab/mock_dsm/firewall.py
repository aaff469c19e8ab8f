"""SYNO.Core.Security.Firewall (get/set), .Firewall.Profile (list/get/set) and .Profile.Apply
(start/status/stop).

Profile.set only saves a profile; Profile.Apply makes it live and turns the firewall on with it
(state `applied`), as dsmctl saw on DSM 7.3; `Firewall set set_type=disable` turns it off. Sources
disagree on the profile JSON (docs/lab-fidelity.md), so both documented shapes are accepted and stored
as sent: dsmctl's live `{"name", "<adapter>": {"policy", "rules": [...]}}` and batonogov's fwDB
`{"name", "rules": {"<adapter>": [...]}, "adapterPolicyMap": {...}}`.
"""

from __future__ import annotations

import copy
import ipaddress
import secrets

from tests.lab.mock_dsm.api import Api
from tests.lab.mock_dsm.errors import ApiError
from tests.lab.mock_dsm.params import boolean, invalid, json_value, required, text

FW_POLICIES = ("allow", "deny")
FW_PROTOCOLS = ("all", "tcp", "udp", "tcp_udp", "icmp")
FW_SOURCE_GROUPS = ("all", "ip", "subnet", "range")
# fwDB enumerations (batonogov's firewall.go, from Synology's fwDB.hpp).
FWDB_RANGES = {"policy": range(0, 3), "protocol": range(1, 5), "portGroup": range(0, 4), "ipGroup": range(0, 6)}


def apis(dsm):
    fw = Firewall(dsm.state)
    return {
        "SYNO.Core.Security.Firewall": Api("entry.cgi", 1, 1, {"get": (fw.get, False), "set": (fw.set, True)}),
        "SYNO.Core.Security.Firewall.Profile": Api("entry.cgi", 1, 1, {
            "list": (fw.profile_list, False), "get": (fw.profile_get, False), "set": (fw.profile_set, True)}),
        "SYNO.Core.Security.Firewall.Profile.Apply": Api("entry.cgi", 1, 1, {
            "start": (fw.apply_start, True), "status": (fw.apply_status, False), "stop": (fw.apply_stop, True)}),
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
        """dsmctl's live disable call (`set_type="disable"`), or krg-infra's full object."""
        set_type = request.param("set_type")
        if set_type is not None:
            if text(set_type, "set_type") != "disable":
                raise invalid("set_type", "invalid")
            self.fw["enable_firewall"] = False
            self.state.save()
            return {}
        enabled, name = request.param("enable_firewall"), request.param("profile_name")
        if enabled is None and name is None:
            raise ApiError(114)
        if name is not None:
            name = text(name, "profile_name")
            if name not in self.fw["profiles"]:
                raise invalid("profile_name", "invalid")
            self.fw["profile_name"] = name
        if enabled is not None:
            self.fw["enable_firewall"] = boolean(enabled)
        self.state.save()
        return {}

    def profile_list(self, request):
        return {"profile_names": sorted(self.fw["profiles"])}

    def _profile_name(self, request, param="name", code=120):
        name = text(required(request, param, code), param)
        if name not in self.fw["profiles"]:
            raise invalid(param, "invalid")
        return name

    def profile_get(self, request):
        # Without `name` DSM answers 120 naming it (PM's probe); the profile comes back bare (dsmctl).
        return copy.deepcopy(self.fw["profiles"][self._profile_name(request)])

    def profile_set(self, request):
        profile = json_value(required(request, "profile"), "profile")
        if not isinstance(profile, dict) or not profile.get("name"):
            raise invalid("profile")
        if isinstance(profile.get("rules"), dict):
            _check_fwdb(profile)
        else:
            _check_envelope(profile)
        self.fw["profiles"][profile["name"]] = profile
        self.state.save()
        return {}

    def apply_start(self, request):
        name = self._profile_name(request, code=114)
        self.fw["applied"] = copy.deepcopy(self.fw["profiles"][name])
        self.fw.update(enable_firewall=True, profile_name=name)
        task_id = "fw_apply_" + secrets.token_hex(4)
        # The lab applies at once; the task exists until `stop` (batonogov polls status, then stops it).
        self.fw.setdefault("tasks", {})[task_id] = {"name": name, "finish": True}
        self.state.save()
        return {"task_id": task_id}

    def _task(self, request):
        task_id = text(required(request, "task_id"), "task_id")
        if task_id not in self.fw.get("tasks", {}):
            raise invalid("task_id", "invalid")  # the lab's choice: no source shows an unknown task
        return task_id

    def apply_status(self, request):
        task_id = self._task(request)
        return {"finish": self.fw["tasks"][task_id]["finish"]}

    def apply_stop(self, request):
        task_id = self._task(request)
        del self.fw["tasks"][task_id]
        self.state.save()
        return {}


def _check_envelope(profile):
    for adapter, body in profile.items():
        if adapter == "name":
            continue
        if not isinstance(body, dict) or body.get("policy") not in FW_POLICIES or \
                not isinstance(body.get("rules"), list):
            raise invalid("profile")
        for rule in body["rules"]:
            _check_rule(rule)


def _check_rule(rule):
    if not isinstance(rule, dict) or rule.get("policy") not in FW_POLICIES or \
            rule.get("protocol") not in FW_PROTOCOLS or rule.get("source_ip_group") not in FW_SOURCE_GROUPS:
        raise invalid("profile")
    if rule.get("port_group") == "custom":
        for part in str(rule.get("ports", "")).split(","):
            low, _dash, high = part.partition("-")
            if not low.isdigit() or not 1 <= int(low) <= 65535 or (high and not 1 <= int(high) <= 65535):
                raise invalid("profile")
    try:
        if rule["source_ip_group"] == "ip":
            ipaddress.ip_address(rule["source_ip"])
        elif rule["source_ip_group"] == "subnet":
            ipaddress.ip_network(rule["source_ip"], strict=True)
        elif rule["source_ip_group"] == "range":
            first, last = rule["source_ip"].split("-")
            ipaddress.ip_address(first), ipaddress.ip_address(last)
    except (KeyError, ValueError):
        raise invalid("profile")


def _check_fwdb(profile):
    policies = profile.get("adapterPolicyMap", {})
    if not isinstance(policies, dict) or any(p not in FWDB_RANGES["policy"] for p in policies.values()):
        raise invalid("profile")
    for rules in profile["rules"].values():
        if not isinstance(rules, list):
            raise invalid("profile")
        for rule in rules:
            if not isinstance(rule, dict) or any(rule.get(field) not in allowed
                                                 for field, allowed in FWDB_RANGES.items() if field in rule):
                raise invalid("profile")
            if not isinstance(rule.get("portList", []), list) or not isinstance(rule.get("ipList", []), list):
                raise invalid("profile")
