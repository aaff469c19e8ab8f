"""SYNO.Core.AppPortal.ReverseProxy (list/create/update/delete) and .AccessControl (list).

Shapes as batonogov's provider and dsmctl send them: create/update with one JSON `entry`, delete by
`uuids`; 4151 for a malformed entry, 4152 unknown access-control profile, 4153 unknown entry, 4154
duplicate description or frontend. A reverse-proxy entry with a hostname on HTTPS is also a
certificate service (SYNO.Core.Certificate.CRT list shows it, bound to the default at first).
"""

from __future__ import annotations

import uuid

from tests.lab.mock_dsm import listeners
from tests.lab.mock_dsm.api import Api
from tests.lab.mock_dsm.errors import ApiError
from tests.lab.mock_dsm.params import json_value, required

RP_FIELDS = {
    "description",
    "frontend",
    "backend",
    "customize_headers",
    "proxy_connect_timeout",
    "proxy_read_timeout",
    "proxy_send_timeout",
    "proxy_http_version",
    "proxy_intercept_errors",
}


def apis(dsm):
    proxy = ReverseProxy(dsm.state)
    return {
        "SYNO.Core.AppPortal.ReverseProxy": Api(
            "entry.cgi",
            1,
            1,
            {
                "list": (proxy.list, False),
                "create": (proxy.create, True),
                "update": (proxy.update, True),
                "delete": (proxy.delete, True),
            },
        ),
        "SYNO.Core.AppPortal.AccessControl": Api("entry.cgi", 1, 1, {"list": (proxy.acl_list, False)}),
    }


def certificate_service(entry_uuid, fqdn):
    """How a reverse-proxy entry appears among the certificate services."""
    return {
        "display_name": fqdn,
        "isPkg": False,
        "multiple_cert": True,
        "owner": "root",
        "service": entry_uuid,
        "subscriber": "ReverseProxy",
        "user_setable": True,
    }


def _frontend_key(entry):
    return entry["frontend"].get("fqdn") or "", entry["frontend"]["port"], entry["frontend"]["protocol"]


class ReverseProxy:
    def __init__(self, state):
        self.state = state

    @property
    def data(self):
        return self.state.data

    def list(self, request):
        return {"entries": [dict(e) for e in self.data["reverse_proxy"].values()]}

    def _entry(self, request, existing=None):
        entry = json_value(required(request, "entry"), "entry")
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("frontend"), dict)
            or not isinstance(entry.get("backend"), dict)
        ):
            raise ApiError(4151)  # DSM's answer to a flattened or partial entry
        for side in ("frontend", "backend"):
            part = entry[side]
            if (
                not part.get("fqdn")
                and side == "backend"
                or not isinstance(part.get("port"), int)
                or not 1 <= part["port"] <= 65535
                or part.get("protocol") not in (0, 1)
            ):
                raise ApiError(4151)
        merged = dict(existing or {})
        merged.update({k: v for k, v in entry.items() if k in RP_FIELDS})
        for other in self.data["reverse_proxy"].values():
            if other["UUID"] != merged.get("UUID") and (
                _frontend_key(other) == _frontend_key(merged) or other.get("description") == merged.get("description")
            ):
                raise ApiError(4154)  # duplicate description or frontend
        acl = merged["frontend"].get("acl")
        if acl and acl not in {p["UUID"] for p in self.data["access_control_profiles"]}:
            raise ApiError(4152)
        return merged

    def create(self, request):
        entry = self._entry(request)
        entry["UUID"] = str(uuid.uuid4())
        entry["_key"] = entry["UUID"]
        self.data["reverse_proxy"][entry["UUID"]] = entry
        self._sync_service(entry)
        self.state.save()
        return {}

    def update(self, request):
        raw = json_value(required(request, "entry"), "entry")
        existing = self.data["reverse_proxy"].get((raw or {}).get("UUID"))
        if existing is None:
            raise ApiError(4153)
        entry = self._entry(request, existing)
        self.data["reverse_proxy"][entry["UUID"]] = entry
        self._sync_service(entry)
        self.state.save()
        return {}

    def delete(self, request):
        uuids = json_value(required(request, "uuids"), "uuids")
        if not isinstance(uuids, list) or any(u not in self.data["reverse_proxy"] for u in uuids):
            raise ApiError(4153)
        for entry_uuid in uuids:
            del self.data["reverse_proxy"][entry_uuid]
            self.data["services"].pop(entry_uuid, None)
            self.data["bindings"].pop(entry_uuid, None)
        self.state.save()
        return {}

    def _sync_service(self, entry):
        fqdn = entry["frontend"].get("fqdn")
        if not fqdn or entry["frontend"]["protocol"] != 1:
            return
        self.data["services"][entry["UUID"]] = certificate_service(entry["UUID"], fqdn)
        self.data["bindings"].setdefault(entry["UUID"], listeners.default_certificate(self.data))

    def acl_list(self, request):
        return {"entries": [dict(p) for p in self.data["access_control_profiles"]]}
