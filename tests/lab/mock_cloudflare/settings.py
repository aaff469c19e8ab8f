"""Zone settings: list, get, edit one, and the bulk edit (every item checked before any is applied)."""

from __future__ import annotations

import datetime

from tests.lab.mock_cloudflare.envelope import json_body
from tests.lab.mock_cloudflare.errors import ApiError

# Value enums of cloudflare-python 5.9 types/zones/{ssl,min_tls_version,tls_1_3}.py (ssl has origin_pull,
# "Strict (SSL-Only Origin Pull)", the Enterprise mode).
ENUMS = {
    "ssl": ("off", "flexible", "full", "strict", "origin_pull"), "min_tls_version": ("1.0", "1.1", "1.2", "1.3"),
    "tls_1_3": ("on", "off", "zrt"),
}
HSTS_FIELDS = {"enabled": bool, "max_age": int, "include_subdomains": bool, "preload": bool, "nosniff": bool}
# The API stores any max_age: terraform-provider-cloudflare's live acceptance test sets 30, and 63072000 was
# stored (the dashboard then shows "%{time}", #1111). The upper bound is a signed 32-bit integer (inferred).
HSTS_MAX_AGE = 2147483647
ZONE = r"/zones/(?P<zone>[0-9a-f]{32})"


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def routes(app):
    s = Settings(app)
    return [
        ("GET", ZONE + "/settings", s.list_settings, False),
        ("PATCH", ZONE + "/settings", s.edit_settings, True),
        ("GET", ZONE + "/settings/(?P<setting>[a-z0-9_]+)", s.get_setting, False),
        ("PATCH", ZONE + "/settings/(?P<setting>[a-z0-9_]+)", s.edit_setting, True),
    ]


class Settings:
    def __init__(self, app):
        self.app = app

    def list_settings(self, request, zone, **_):
        self.app.zone(zone)
        return [dict(s) for s in self.app.data["settings"][zone].values()], None

    def get_setting(self, request, zone, setting, **_):
        self.app.zone(zone)
        if setting not in self.app.data["settings"][zone]:
            raise ApiError(400, 1006, "Unrecognized zone setting name")
        return dict(self.app.data["settings"][zone][setting]), None

    def _check_setting(self, zone, sid, value):
        settings = self.app.data["settings"][zone]
        if sid not in settings:
            raise ApiError(400, 1006, "Unrecognized zone setting name")
        if not settings[sid]["editable"]:
            raise ApiError(400, 1012, "%s cannot be changed on this zone's plan" % sid)
        current = settings[sid]["value"]
        if sid == "security_header":
            hsts = (value or {}).get("strict_transport_security") if isinstance(value, dict) else None
            if not isinstance(hsts, dict) or set(hsts) - set(HSTS_FIELDS) or \
                    any(not isinstance(hsts[k], HSTS_FIELDS[k]) or HSTS_FIELDS[k] is int and isinstance(hsts[k], bool)
                        for k in hsts) or not 0 <= hsts.get("max_age", 0) <= HSTS_MAX_AGE:
                raise ApiError(400, 1007, "Invalid value for zone setting security_header")
            return {"strict_transport_security": dict(current["strict_transport_security"], **hsts)}
        allowed = ENUMS.get(sid, ("on", "off") if current in ("on", "off") else None)
        if allowed is not None and value not in allowed:
            raise ApiError(400, 1007, "Invalid value for zone setting %s" % sid)
        return value

    def edit_setting(self, request, zone, setting, **_):
        self.app.zone(zone)
        body = json_body(request)
        if "value" not in body:
            raise ApiError(400, 1007, "Invalid value for zone setting %s" % setting)
        value = self._check_setting(zone, setting, body["value"])
        entry = self.app.data["settings"][zone][setting]
        entry.update(value=value, modified_on=now())
        return dict(entry), None

    def edit_settings(self, request, zone, **_):
        """Bulk edit: every item is checked before any is applied."""
        self.app.zone(zone)
        if not self.app.config["bulk_settings"]:
            raise ApiError(405, 10405, "Method not allowed for this endpoint")
        items = json_body(request).get("items")
        if not isinstance(items, list) or not items:
            raise ApiError(400, 1007, "Invalid value for zone settings: items required")
        checked = [(item.get("id"), self._check_setting(zone, item.get("id"), item.get("value"))) for item in items]
        stamp = now()
        for sid, value in checked:
            self.app.data["settings"][zone][sid].update(value=value, modified_on=stamp)
        return [dict(self.app.data["settings"][zone][sid]) for sid, value in checked], None
