# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""DSM's reverse proxy (SYNO.Core.AppPortal.ReverseProxy, .AccessControl): the module's rules <-> DSM's
entry JSON, and the write order."""

from __future__ import annotations

from ansible_collections.homelab.nas.plugins.module_utils import dsm_validate as v

API = "SYNO.Core.AppPortal.ReverseProxy"
ACCESS_CONTROL_API = "SYNO.Core.AppPortal.AccessControl"
PROTOCOLS = {"http": 0, "https": 1}
WEBSOCKET_HEADERS = [
    {"name": "Upgrade", "value": "$http_upgrade"},
    {"name": "Connection", "value": "$connection_upgrade"},
]


def frontend_key(entry):
    front = entry["frontend"]
    return (front.get("protocol"), v.name_key(front.get("fqdn")), front.get("port"))


def desired_entry(index, rule):
    """A declared rule as DSM's entry JSON (the acl profile is resolved later)."""
    where = "rules[%d]" % index
    front, back = rule["frontend"], rule["backend"]
    fqdn = v.hostname("%s.frontend.hostname" % where, front["hostname"], wildcard=True)
    # DSM writes each header into its nginx (proxy_set_header <name> <value>;): both checked to their grammar.
    headers = [
        {
            "name": v.header_name("%s.custom_headers[%d].name" % (where, i), h["name"]),
            "value": v.header_value("%s.custom_headers[%d].value" % (where, i), h["value"]),
        }
        for i, h in enumerate(rule["custom_headers"])
    ]
    if rule["websocket"]:
        headers = [h for h in headers if h["name"].lower() not in ("upgrade", "connection")] + WEBSOCKET_HEADERS
    timeouts = rule["timeouts"] or {"connect": 60, "read": 60, "send": 60}
    for name, seconds in timeouts.items():
        if not 1 <= seconds <= 86400:
            raise v.InputError("%s.timeouts.%s: %s is out of range; use 1-86400 seconds" % (where, name, seconds))
    https = {"hsts": rule["hsts"], "http2": rule["http2"]} if front["protocol"] == "https" else {}
    return {
        "description": rule["description"] or fqdn,
        "frontend": {
            "fqdn": fqdn,
            "port": v.port("%s.frontend.port" % where, front["port"]),
            "protocol": PROTOCOLS[front["protocol"]],
            "acl": None,
            "https": https,
        },
        "backend": {
            "fqdn": v.hostname("%s.backend.host" % where, back["host"]),
            "port": v.port("%s.backend.port" % where, back["port"]),
            "protocol": PROTOCOLS[back["protocol"]],
        },
        "customize_headers": headers,
        "proxy_connect_timeout": timeouts["connect"],
        "proxy_read_timeout": timeouts["read"],
        "proxy_send_timeout": timeouts["send"],
        "proxy_http_version": 1,
        "proxy_intercept_errors": False,
    }


def comparable(entry):
    """The fields this module manages, as DSM stores them."""
    front = entry.get("frontend") or {}
    https = front.get("https") or {}
    return {
        "description": entry.get("description"),
        "frontend": {
            "fqdn": v.name_key(front.get("fqdn")),
            "port": front.get("port"),
            "protocol": front.get("protocol"),
            "acl": front.get("acl") or None,
            "https": {"hsts": bool(https.get("hsts")), "http2": bool(https.get("http2"))}
            if front.get("protocol") == 1
            else {},
        },
        "backend": {k: (entry.get("backend") or {}).get(k) for k in ("fqdn", "port", "protocol")},
        "customize_headers": [
            {"name": h.get("name"), "value": h.get("value")} for h in entry.get("customize_headers") or []
        ],
        "proxy_connect_timeout": entry.get("proxy_connect_timeout"),
        "proxy_read_timeout": entry.get("proxy_read_timeout"),
        "proxy_send_timeout": entry.get("proxy_send_timeout"),
        "proxy_http_version": entry.get("proxy_http_version"),
        "proxy_intercept_errors": bool(entry.get("proxy_intercept_errors")),
    }


class DsmReverseProxy:
    def __init__(self, client):
        self.client = client

    def entries(self):
        return self.client.read(API, "list", 1).get("entries") or []

    def access_profiles(self):
        """{profile name: UUID} of the access-control profiles."""
        return {p["name"]: p["UUID"] for p in self.client.read(ACCESS_CONTROL_API, "list", 1).get("entries") or []}

    def apply(self, deletes, updates, creates):
        """Creates, then updates (the whole entry: DSM replaces it), then deletes: a failure part-way leaves a
        rule too many, never a declared one missing. No create or update needs a frontend a delete frees: a
        declared frontend already on DSM is matched to that rule, which is then updated, not deleted."""
        for entry in creates:
            self.client.write(API, "create", 1, entry=entry)
        for existing, entry in updates:
            self.client.write(API, "update", 1, entry=dict(existing, **entry))
        if deletes:
            self.client.write(API, "delete", 1, uuids=sorted(e["UUID"] for e in deletes))
