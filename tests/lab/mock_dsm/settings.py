"""DSM's reverse proxy, firewall, security, user and update-policy APIs, as the mock models them.

Shapes follow the public clients verified against real DSMs (../shared/reference/peers.md): reverse proxy
entries as in batonogov's provider and dsmctl (create/update with one JSON `entry`, delete by `uuids`);
the firewall profile envelope as dsmctl saw it on DSM 7.3 (`{"name", "<adapter>": {"policy", "rules"}}`),
applied with Profile.Apply; AutoBlock, SmartBlock, OTP.EnforcePolicy and Upgrade.Setting as dsmctl and
krg-infra send them; users disabled with `expired="now"`. Not published by any client, so the lab's own
choice: the trusted-proxy API (SYNO.Core.Security.TrustedProxy) and the DoS write shape.
"""

from __future__ import annotations

import ipaddress
import json
import uuid

from tests.lab.mock_dsm.errors import ApiError

RP_FIELDS = {"description", "frontend", "backend", "customize_headers", "proxy_connect_timeout",
             "proxy_read_timeout", "proxy_send_timeout", "proxy_http_version", "proxy_intercept_errors"}
FW_POLICIES = ("allow", "deny")
FW_PROTOCOLS = ("all", "tcp", "udp", "tcp_udp", "icmp")
FW_SOURCE_GROUPS = ("all", "ip", "subnet", "range")
UPDATE_TYPES = ("hotfix-security", "hotfix", "smart", "notify")
OTP_OPTIONS = ("none", "admin", "user")


def _json(value, code=101):
    try:
        return json.loads(value) if isinstance(value, str) else value
    except ValueError:
        raise ApiError(code)


def _bool(value):
    if isinstance(value, bool):
        return value
    return str(value).lower() == "true"


class Settings:
    """Handlers over the shared state; each returns the `data` of DSM's envelope."""

    def __init__(self, state):
        self.state = state

    @property
    def data(self):
        return self.state.data

    # -- reverse proxy -------------------------------------------------------
    def rp_list(self, request):
        return {"entries": [dict(e) for e in self.data["reverse_proxy"].values()]}

    def _rp_entry(self, request, existing=None):
        entry = _json(request.param("entry"))
        if not isinstance(entry, dict) or not isinstance(entry.get("frontend"), dict) or \
                not isinstance(entry.get("backend"), dict):
            raise ApiError(4151)  # DSM's answer to a flattened or partial entry
        for side in ("frontend", "backend"):
            part = entry[side]
            if not part.get("fqdn") and side == "backend" or not isinstance(part.get("port"), int) or \
                    not 1 <= part["port"] <= 65535 or part.get("protocol") not in (0, 1):
                raise ApiError(4151)
        merged = dict(existing or {})
        merged.update({k: v for k, v in entry.items() if k in RP_FIELDS})
        key = (merged["frontend"].get("fqdn") or "", merged["frontend"]["port"], merged["frontend"]["protocol"])
        for other in self.data["reverse_proxy"].values():
            if other["UUID"] != merged.get("UUID"):
                if (other["frontend"].get("fqdn") or "", other["frontend"]["port"], other["frontend"]["protocol"]) == key \
                        or other.get("description") == merged.get("description"):
                    raise ApiError(4154)  # duplicate description or frontend
        acl = merged["frontend"].get("acl")
        if acl and acl not in {p["UUID"] for p in self.data["access_control_profiles"]}:
            raise ApiError(4152)
        return merged

    def rp_create(self, request):
        entry = self._rp_entry(request)
        entry["UUID"] = str(uuid.uuid4())
        entry["_key"] = entry["UUID"]
        self.data["reverse_proxy"][entry["UUID"]] = entry
        self._sync_rp_service(entry)
        self.state.save()
        return {}

    def rp_update(self, request):
        raw = _json(request.param("entry"))
        existing = self.data["reverse_proxy"].get((raw or {}).get("UUID"))
        if existing is None:
            raise ApiError(4153)
        entry = self._rp_entry(request, existing)
        self.data["reverse_proxy"][entry["UUID"]] = entry
        self._sync_rp_service(entry)
        self.state.save()
        return {}

    def rp_delete(self, request):
        uuids = _json(request.param("uuids"))
        if not isinstance(uuids, list) or any(u not in self.data["reverse_proxy"] for u in uuids):
            raise ApiError(4153)
        for entry_uuid in uuids:
            del self.data["reverse_proxy"][entry_uuid]
            self.data["services"].pop(entry_uuid, None)
            self.data["bindings"].pop(entry_uuid, None)
        self.state.save()
        return {}

    def _sync_rp_service(self, entry):
        """A reverse-proxy entry with a hostname is a certificate service (bound to the default at first)."""
        fqdn = entry["frontend"].get("fqdn")
        if not fqdn or entry["frontend"]["protocol"] != 1:
            return
        self.data["services"][entry["UUID"]] = {
            "display_name": fqdn, "isPkg": False, "multiple_cert": True, "owner": "root",
            "service": entry["UUID"], "subscriber": "ReverseProxy", "user_setable": True}
        default = next(c["id"] for c in self.data["certificates"].values() if c["is_default"])
        self.data["bindings"].setdefault(entry["UUID"], default)

    def acl_list(self, request):
        return {"entries": [dict(p) for p in self.data["access_control_profiles"]]}

    # -- firewall --------------------------------------------------------------
    def fw_get(self, request):
        fw = self.data["firewall"]
        return {"enable_firewall": fw["enable_firewall"], "profile_name": fw["profile_name"]}

    def fw_set(self, request):
        fw = self.data["firewall"]
        if request.param("enable_firewall") is not None:
            fw["enable_firewall"] = _bool(request.param("enable_firewall"))
        name = request.param("profile_name")
        if name is not None:
            name = _json(name) if name.startswith('"') else name
            if name not in fw["profiles"]:
                raise ApiError(101)
            fw["profile_name"] = name
        self.state.save()
        return {}

    def profile_get(self, request):
        name = request.param("name", "")
        name = _json(name) if name.startswith('"') else name
        profile = self.data["firewall"]["profiles"].get(name)
        if profile is None:
            raise ApiError(101)
        return {"profile": profile}

    def profile_set(self, request):
        profile = _json(request.param("profile"))
        if not isinstance(profile, dict) or not profile.get("name"):
            raise ApiError(101)
        for adapter, body in profile.items():
            if adapter == "name":
                continue
            if not isinstance(body, dict) or body.get("policy") not in FW_POLICIES or \
                    not isinstance(body.get("rules"), list):
                raise ApiError(101)
            for rule in body["rules"]:
                self._check_rule(rule)
        self.data["firewall"]["profiles"][profile["name"]] = profile
        self.data["firewall"]["pending"] = profile["name"]
        self.state.save()
        return {}

    @staticmethod
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

    def apply_start(self, request):
        name = request.param("name", "")
        name = _json(name) if name.startswith('"') else name
        if name not in self.data["firewall"]["profiles"]:
            raise ApiError(101)
        self.data["firewall"]["applied"] = json.loads(json.dumps(self.data["firewall"]["profiles"][name]))
        self.data["firewall"].pop("pending", None)
        self.state.save()
        return {"task_id": "fw-apply-1"}

    def apply_status(self, request):
        return {"finish": True}

    # -- security ------------------------------------------------------------------
    def proxies_get(self, request):
        return {"proxies": list(self.data["security"]["trusted_proxies"])}

    def proxies_set(self, request):
        proxies = _json(request.param("proxies"))
        if not isinstance(proxies, list):
            raise ApiError(101)
        try:
            normalised = [str(ipaddress.ip_network(p, strict=False)) for p in proxies]
        except ValueError:
            raise ApiError(101)
        self.data["security"]["trusted_proxies"] = normalised
        self.state.save()
        return {}

    def dos_get(self, request):
        wanted = _json(request.param("configs", "[]")) or [{"adapter": a} for a in self.data["security"]["dos"]]
        return {"configs": [{"adapter": c.get("adapter"),
                             "dos_protect_enable": self.data["security"]["dos"].get(c.get("adapter"), False)}
                            for c in wanted if c.get("adapter") in self.data["security"]["dos"]]}

    def dos_set(self, request):
        configs = _json(request.param("configs"))
        if not isinstance(configs, list) or any(c.get("adapter") not in self.data["security"]["dos"] for c in configs):
            raise ApiError(101)
        for config in configs:
            self.data["security"]["dos"][config["adapter"]] = bool(config.get("dos_protect_enable"))
        self.state.save()
        return {}

    def _plain_get(self, key):
        return lambda request: dict(self.data["security"][key])

    def _plain_set(self, key, checks):
        def handler(request):
            target = self.data["security"][key]
            update = {}
            for field, kind in checks.items():
                value = request.param(field)
                if value is None:
                    continue
                value = _json(value) if kind is not str else (_json(value) if value.startswith('"') else value)
                if kind is bool:
                    value = _bool(value)
                if kind is int and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
                    raise ApiError(101)
                update[field] = value
            target.update(update)
            self.state.save()
            return {}
        return handler

    def autoblock_rules_list(self, request):
        kind = request.param("type", "deny")
        return {"rules": [{"ip": ip, "type": kind} for ip in self.data["security"]["autoblock_lists"].get(kind, [])]}

    def autoblock_rules_create(self, request):
        kind, ip = request.param("type"), request.param("ip")
        if kind not in ("allow", "deny"):
            raise ApiError(101)
        try:
            ip = str(ipaddress.ip_network(ip, strict=False))
        except (TypeError, ValueError):
            raise ApiError(101)
        entries = self.data["security"]["autoblock_lists"][kind]
        if ip not in entries:
            entries.append(ip)
        self.state.save()
        return {}

    def autoblock_rules_delete(self, request):
        kind, ip = request.param("type"), request.param("ip")
        entries = self.data["security"]["autoblock_lists"].get(kind)
        try:
            ip = str(ipaddress.ip_network(ip, strict=False))
        except (TypeError, ValueError):
            raise ApiError(101)
        if entries is None or ip not in entries:
            raise ApiError(101)
        entries.remove(ip)
        self.state.save()
        return {}

    def otp_get(self, request):
        return {"otp_enforce_option": self.data["security"]["otp_enforce_option"]}

    def otp_set(self, request):
        option = request.param("otp_enforce_option", "")
        option = _json(option) if option.startswith('"') else option
        if option not in OTP_OPTIONS:
            raise ApiError(101)
        self.data["security"]["otp_enforce_option"] = option
        self.state.save()
        return {}

    # -- users ---------------------------------------------------------------------
    def user_list(self, request):
        return {"users": [{"name": name, "expired": "now" if user["disabled"] else "normal",
                           "is_admin": user["admin"]} for name, user in sorted(self.data["users"].items())],
                "total": len(self.data["users"])}

    def user_set(self, request):
        name = request.param("name", "")
        name = _json(name) if name.startswith('"') else name
        user = self.data["users"].get(name)
        if user is None:
            raise ApiError(3106)  # no such user
        expired = request.param("expired", "")
        expired = _json(expired) if expired.startswith('"') else expired
        if expired not in ("now", "normal"):
            raise ApiError(101)
        user["disabled"] = expired == "now"
        self.state.save()
        return {}

    # -- update policy -----------------------------------------------------------
    def upgrade_get(self, request):
        return dict(self.data["upgrade"])

    def upgrade_set(self, request):
        """Full object, as DSM wants it (a partial one is refused)."""
        fields = {"autoupdate_enable": bool, "autoupdate_type": str, "schedule": dict}
        values = {}
        for field, kind in fields.items():
            raw = request.param(field)
            if raw is None:
                raise ApiError(101)
            value = _json(raw) if kind is not str or raw.startswith('"') else raw
            if kind is bool:
                value = _bool(value)
            values[field] = value
        schedule = values["schedule"]
        if values["autoupdate_type"] not in UPDATE_TYPES or not isinstance(schedule, dict) or \
                not set(str(schedule.get("week_day", "")).split(",")) <= {str(d) for d in range(7)} or \
                not 0 <= int(schedule.get("hour", -1)) <= 23 or not 0 <= int(schedule.get("minute", -1)) <= 59:
            raise ApiError(101)
        self.data["upgrade"] = values
        self.state.save()
        return {}
