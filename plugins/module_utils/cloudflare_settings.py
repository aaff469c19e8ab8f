# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""Zone settings: the names users know (the dashboard's, the seed articles') mapped to Cloudflare's ids,
their values normalised, HSTS validated the way the HSTS preload list requires, and the settings API."""

from __future__ import annotations

from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_client import CloudflareError
from ansible_collections.homelab.nas.plugins.module_utils.errors import HomelabInputError

HSTS_SETTING = "security_header"
PRELOAD_MIN_MAX_AGE = 31536000  # one year: hstspreload.org's minimum
MAX_HSTS_MAX_AGE = 63072000

# Friendly names -> Cloudflare setting ids.
ALIASES = {
    "ssl_mode": "ssl",
    "ssl_tls_encryption_mode": "ssl",
    "encryption_mode": "ssl",
    "minimum_tls_version": "min_tls_version",
    "min_tls": "min_tls_version",
    "tls13": "tls_1_3",
    "tls_13": "tls_1_3",
    "authenticated_origin_pulls": "tls_client_auth",
    "origin_pulls": "tls_client_auth",
    "https_rewrites": "automatic_https_rewrites",
    "always_https": "always_use_https",
    "hsts": HSTS_SETTING,
}

ON_OFF = ("on", "off")
# Values Cloudflare accepts for the settings this collection is about; others are passed through.
ENUMS = {
    "ssl": ("off", "flexible", "full", "strict", "origin_pull"),
    "min_tls_version": ("1.0", "1.1", "1.2", "1.3"),
    "tls_1_3": ("on", "off", "zrt"),
    "opportunistic_encryption": ON_OFF,
    "automatic_https_rewrites": ON_OFF,
    "always_use_https": ON_OFF,
    "tls_client_auth": ON_OFF,
    "http3": ON_OFF,
    "0rtt": ON_OFF,
    "ipv6": ON_OFF,
    "websockets": ON_OFF,
    "brotli": ON_OFF,
    "opportunistic_onion": ON_OFF,
}
SSL_MODES = {
    "full (strict)": "strict",
    "full_strict": "strict",
    "full-strict": "strict",
    "strict": "strict",
    "full": "full",
    "flexible": "flexible",
    "off": "off",
    "origin_pull": "origin_pull",
    "strict (ssl-only origin pull)": "origin_pull",
}
HSTS_FIELDS = {"enabled": bool, "max_age": int, "include_subdomains": bool, "preload": bool, "nosniff": bool}


class SettingError(HomelabInputError):
    """Bad input: the message names the setting and the fix."""


def setting_id(name):
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    return ALIASES.get(key, key)


def normalise_value(sid, value):
    """The value as Cloudflare stores it, or SettingError."""
    if sid == HSTS_SETTING:
        return {"strict_transport_security": normalise_hsts(value)}
    if isinstance(value, bool):
        value = "on" if value else "off"
    if sid == "ssl":
        mode = SSL_MODES.get(str(value).strip().lower())
        if mode is None:
            raise SettingError(
                "ssl: '%s' is not an SSL/TLS encryption mode; use off, flexible, full, strict "
                '("Full (strict)") or origin_pull ("Strict (SSL-Only Origin Pull)", '
                "Enterprise plans)" % value
            )
        return mode
    if sid == "min_tls_version":
        value = "%.1f" % float(value) if isinstance(value, (int, float)) else str(value).strip()
    if sid in ENUMS:
        text = str(value).strip().lower()
        if text not in ENUMS[sid]:
            raise SettingError("%s: '%s' is not a valid value; use one of %s" % (sid, value, ", ".join(ENUMS[sid])))
        return text
    return value


def normalise_hsts(value):
    """Cloudflare's strict_transport_security object, checked like the HSTS preload list does."""
    if isinstance(value, dict) and "strict_transport_security" in value:
        value = value["strict_transport_security"]
    if not isinstance(value, dict):
        raise SettingError("hsts: give a mapping with enabled, max_age, include_subdomains, preload, nosniff")
    unknown = set(value) - set(HSTS_FIELDS)
    if unknown:
        raise SettingError("hsts: unknown field(s) %s; use %s" % (", ".join(sorted(unknown)), ", ".join(HSTS_FIELDS)))
    hsts = {"enabled": True, "max_age": 15552000, "include_subdomains": False, "preload": False, "nosniff": False}
    for field, kind in HSTS_FIELDS.items():
        if field in value and value[field] is not None:
            hsts[field] = _as(kind, field, value[field])
    if not 0 <= hsts["max_age"] <= MAX_HSTS_MAX_AGE:
        raise SettingError(
            "hsts.max_age: %s is out of range; use 0 to %d seconds" % (hsts["max_age"], MAX_HSTS_MAX_AGE)
        )
    if hsts["preload"]:
        if hsts["max_age"] < PRELOAD_MIN_MAX_AGE:
            raise SettingError(
                "hsts.preload needs max_age of at least %d seconds (12 months), got %d; raise max_age "
                "or leave preload off" % (PRELOAD_MIN_MAX_AGE, hsts["max_age"])
            )
        if not hsts["include_subdomains"]:
            raise SettingError("hsts.preload needs include_subdomains: true (the preload list covers every subdomain)")
    if hsts["enabled"] and hsts["max_age"] == 0:
        raise SettingError("hsts.max_age: 0 turns HSTS off in browsers; give a duration such as 15552000 (6 months)")
    return hsts


def _as(kind, field, value):
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "yes", "on", "1"):
            return True
        if text in ("false", "no", "off", "0"):
            return False
        raise SettingError("hsts.%s: '%s' is not a boolean" % (field, value))
    try:
        return int(value)
    except (TypeError, ValueError):
        raise SettingError("hsts.%s: '%s' is not a number of seconds" % (field, value))


def desired_settings(settings, hsts=None):
    """{setting id: normalised value} from the user's mapping (and the structured hsts option)."""
    wanted = {}
    for name, value in (settings or {}).items():
        sid = setting_id(name)
        if sid in wanted:
            raise SettingError("settings: '%s' and another name both mean '%s'; give it once" % (name, sid))
        wanted[sid] = normalise_value(sid, value)
    if hsts is not None:
        if HSTS_SETTING in wanted:
            raise SettingError("hsts: given both as the hsts option and in settings; use the hsts option")
        wanted[HSTS_SETTING] = normalise_value(HSTS_SETTING, hsts)
    return wanted


class ZoneSettings:
    """The settings of one zone (/zones/{zone_id}/settings)."""

    def __init__(self, client, zone_id):
        self.client = client
        self.path = "/zones/%s/settings" % zone_id

    def all(self):
        """{setting id: Cloudflare's setting object (id, value, editable, ...)}."""
        return {s["id"]: s for s in self.client.get(self.path)}

    def change(self, changes):
        """One bulk PATCH; where Cloudflare refuses the bulk call itself, one PATCH per setting."""
        items = [{"id": sid, "value": value} for sid, value in sorted(changes.items())]
        try:
            self.client.request("PATCH", self.path, body={"items": items})
        except CloudflareError as exc:
            if exc.status not in (404, 405, 501):
                raise
            for item in items:
                self.client.request("PATCH", "%s/%s" % (self.path, item["id"]), body={"value": item["value"]})
