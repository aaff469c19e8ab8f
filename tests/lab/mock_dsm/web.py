"""Control Panel > Login Portal > DSM: SYNO.Core.Web.DSM (v1-2, get/set), SYNO.Core.Web.DSM.External (v1) and
SYNO.Core.Web.Security.TLSProfile (v1), with DSM's web server following what is set (listeners.WebListeners).

Versions and methods: N4S4/synology-api's API list and its core_sys_info (`web_status` at the highest version),
go-synology's api_info dump (Web.DSM 1-2, External and TLSProfile 1). Fields (docs/lab-fidelity.md):
- v2 get: the S1/S2 schema (ports, redirect, HTTP/2 as `enable_spdy`, custom domain, server header, avahi, ssdp,
  reuseport, max connections), without `enable_https` and `enable_hsts`, as a live DSM 7.3 answered it (dsmctl);
- v1 get: the eight fields dsmctl wrote back at v1 on that DSM (ports, enable_https, redirect, HSTS, spdy, custom
  domain and fqdn);
- v1 set: those eight; a field left out keeps its value (lab's choice: dsmctl always sent all eight);
- v2 set: the whole v2 object; one field missing is refused with 2001 (a DSM web-settings script's note).
A set that moves a port makes DSM's web server restart on the new ports; the answer to the set arrives first
(config `web_set_answer: answer`, the default) or the connection drops unanswered (`drop`), as either may
happen while DSM's nginx restarts (S4/S5 notes on restart_httpd).
"""

from __future__ import annotations

from tests.lab.mock_dsm.api import Api
from tests.lab.mock_dsm.errors import ApiError
from tests.lab.mock_dsm.params import invalid, maybe_json, required

API = "SYNO.Core.Web.DSM"
EXTERNAL_API = "SYNO.Core.Web.DSM.External"
TLS_API = "SYNO.Core.Web.Security.TLSProfile"

V1_FIELDS = (
    "http_port",
    "https_port",
    "enable_https",
    "enable_https_redirect",
    "enable_hsts",
    "enable_spdy",
    "enable_custom_domain",
    "fqdn",
)
V2_FIELDS = (
    "http_port",
    "https_port",
    "enable_https_redirect",
    "enable_spdy",
    "enable_custom_domain",
    "fqdn",
    "enable_server_header",
    "server_header",
    "main_app",
    "enable_avahi",
    "enable_ssdp",
    "enable_reuseport",
    "support_reuseport",
    "enable_max_connections",
    "max_connections",
    "max_connections_limit",
)
# Read-only in the lab (what the hardware supports, the bounds DSM offers).
READ_ONLY = ("support_reuseport", "max_connections_limit")
BOOLEANS = (
    "enable_https",
    "enable_https_redirect",
    "enable_hsts",
    "enable_spdy",
    "enable_custom_domain",
    "enable_server_header",
    "enable_avahi",
    "enable_ssdp",
    "enable_reuseport",
    "enable_max_connections",
)
# A fresh DSM 7: 5000/5001, no redirect, no HSTS, HTTP/2 off, no custom domain (S2's sample values).
DEFAULTS = {
    "http_port": 5000,
    "https_port": 5001,
    "enable_https": True,
    "enable_https_redirect": False,
    "enable_hsts": False,
    "enable_spdy": False,
    "enable_custom_domain": False,
    "fqdn": None,
    "enable_server_header": False,
    "server_header": "nginx",
    "main_app": "DSM",
    "enable_avahi": True,
    "enable_ssdp": True,
    "enable_reuseport": False,
    "support_reuseport": True,
    "enable_max_connections": False,
    "max_connections": 2048,
    "max_connections_limit": {"lower": 2048, "upper": 16384},
}
# TLS profile levels: 0 modern, 1 intermediate, 2 old; services follow the default level (lab's choice).
TLS_LEVELS = (0, 1, 2)
TLS_SERVICES = {
    "dsm": "DSM Desktop Service",
    "smbftpd": "FTPS",
    "system_quickconnect": "QuickConnect",
}


def settings(data):
    """The web settings in a state document (older state files have none yet)."""
    web = data.setdefault("web", {})
    for key, value in DEFAULTS.items():
        web.setdefault(key, value)
    data.setdefault("web_external", {"hostname": ""})
    data.setdefault("tls_profile", {"default-level": 1})
    return web


def apis(dsm):
    web = Web(dsm)
    return {
        API: Api("entry.cgi", 1, 2, {"get": (web.get, False), "set": (web.set, True)}),
        EXTERNAL_API: Api("entry.cgi", 1, 1, {"get": (web.external_get, False), "set": (web.external_set, True)}),
        TLS_API: Api("entry.cgi", 1, 1, {"get": (web.tls_get, False), "set": (web.tls_set, True)}),
    }


def _port(name, raw):
    value = maybe_json(raw)
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise invalid(name)
    return value


def _value(name, raw):
    if name in ("http_port", "https_port"):
        return _port(name, raw)
    value = maybe_json(raw)
    if name in BOOLEANS:
        if not isinstance(value, bool):
            raise invalid(name)
        return value
    if name == "max_connections":
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid(name)
        return value
    if name == "fqdn":
        return None if value in (None, "") else str(value)
    return value if isinstance(value, str) else str(value)


class Web:
    def __init__(self, dsm):
        self.dsm = dsm
        self.state = dsm.state

    def get(self, request):
        web = settings(self.state.data)
        fields = V1_FIELDS if request.version == 1 else V2_FIELDS
        return {key: web[key] for key in fields}

    def set(self, request):
        web = settings(self.state.data)
        fields = V1_FIELDS if request.version == 1 else V2_FIELDS
        update = {}
        for key in fields:
            raw = request.param(key)
            if raw is None:
                if request.version >= 2 and key not in READ_ONLY:
                    raise ApiError(2001)  # v2 wants the whole object
                continue
            if key not in READ_ONLY:
                update[key] = _value(key, raw)
        if not update:
            raise ApiError(114)
        wanted = dict(web, **update)
        if wanted["http_port"] == wanted["https_port"]:
            raise invalid("https_port", "conflict")  # one port cannot serve both (lab's code choice)
        if wanted["enable_custom_domain"] and not wanted["fqdn"]:
            raise invalid("fqdn", "required")
        # The web server restarts on the new ports: bound before the state changes, so a port another program
        # holds is refused and nothing moves.
        moved = self.dsm.web.prepare(wanted["http_port"], wanted["https_port"])
        web.update(update)
        self.state.save()
        self.dsm.web.commit(moved)
        if moved and self.dsm.config.get("web_set_answer") == "drop":
            return self.dsm.dropped_answer()
        return {}

    def external_get(self, request):
        settings(self.state.data)
        return dict(self.state.data["web_external"])

    def external_set(self, request):
        settings(self.state.data)
        value = maybe_json(required(request, "hostname"))
        if not isinstance(value, str):
            raise invalid("hostname")
        self.state.data["web_external"]["hostname"] = value
        self.state.save()
        return {}

    def tls_get(self, request):
        settings(self.state.data)
        level = self.state.data["tls_profile"]["default-level"]
        return {
            "default-level": level,
            "services": {
                key: {"current-level": level, "display-name": name} for key, name in sorted(TLS_SERVICES.items())
            },
        }

    def tls_set(self, request):
        settings(self.state.data)
        level = maybe_json(required(request, "default-level"))
        if isinstance(level, bool) or level not in TLS_LEVELS:
            raise invalid("default-level")
        self.state.data["tls_profile"]["default-level"] = level
        self.state.save()
        return {}
