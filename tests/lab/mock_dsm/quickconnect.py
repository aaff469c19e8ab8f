"""SYNO.Core.QuickConnect (v1-3): QuickConnect on/off and its relay, a package API.

Versions and methods: go-synology's SYNO.API.Info dump (1-3, entry.cgi) and mikespub's method dump, which
lists the methods per version (v1 status/get/set/set_server_alias, v2 get/set/set_server_alias, v3
get_misc_config/set_misc_config/...) and the library under /var/packages/QuickConnect/target/webapi/: the API
exists only while the QuickConnect package is installed (lab config `quickconnect_installed`). The mock takes
the dump's per-version table literally (a method outside its version answers 103); N4S4 calls get at the
highest version, so a real DSM may be laxer.

get: `{enabled, server_alias, region, domain, ddns_domain, myds_account, server_id}` (N4S4's sample, pmilano1's
probe, dsmctl's decoder). set: dsmctl writes `enabled`/`server_alias`/`region` at v2, each optional (field names
from DSM's WebAPI conf, not live), a shipping Swift client sends `enabled` with the alias; N4S4's branch client
sends `enable`. Lab config `quickconnect_enable_field` says which name this DSM takes (`enabled` by default);
a set without it and without anything else → 114. get_misc_config/set_misc_config: `relay_enabled`, live on
DSM 7.3 (dsmctl), in N4S4's sample and LanStash's notes.
"""

from __future__ import annotations

from tests.lab.mock_dsm.api import Api
from tests.lab.mock_dsm.errors import ApiError
from tests.lab.mock_dsm.params import maybe_json, text

API = "SYNO.Core.QuickConnect"
# Which methods each version has (mikespub's dump of DSM's lib definition).
METHODS = {
    1: ("status", "get", "set", "set_server_alias"),
    2: ("get", "set", "set_server_alias"),
    3: ("get_misc_config", "set_misc_config"),
}


def initial_state(myds_account):
    """QuickConnect as DSM's setup wizard leaves it when the owner signed in with a Synology Account and took
    a QuickConnect ID (on, relay on; the alias and region are the lab's own)."""
    return {
        "enabled": True,
        "server_alias": "labnas-example",
        "region": "eu",
        "domain": "quickconnect.to",
        "ddns_domain": "direct.quickconnect.to",
        "myds_account": myds_account,
        "server_id": "",
        "relay_enabled": True,
    }


def apis(dsm):
    qc = QuickConnect(dsm)
    methods = {
        "get": (qc.get, False),
        "status": (qc.status, False),
        "set": (qc.set, True),
        "get_misc_config": (qc.get_misc_config, False),
        "set_misc_config": (qc.set_misc_config, True),
    }
    return {API: Api("entry.cgi", 1, 3, methods, available=lambda: dsm.config["quickconnect_installed"])}


class QuickConnect:
    def __init__(self, dsm):
        self.dsm = dsm

    @property
    def settings(self):
        data = self.dsm.state.data
        if "quickconnect" not in data:  # a state file from before QuickConnect was modelled
            data["quickconnect"] = initial_state(data.get("ddns", {}).get("myds_account", ""))
        return data["quickconnect"]

    @staticmethod
    def _version(request, method):
        if method not in METHODS.get(request.version, ()):
            raise ApiError(103)

    def get(self, request):
        self._version(request, "get")
        return {k: v for k, v in self.settings.items() if k != "relay_enabled"}

    def status(self, request):
        self._version(request, "status")
        # N4S4's sample keys; "not_running" while off (the running value is the lab's own).
        return {"alias_status": "success", "status": "connected" if self.settings["enabled"] else "not_running"}

    def set(self, request):
        self._version(request, "set")
        field = self.dsm.config["quickconnect_enable_field"]
        update = {}
        raw = request.param(field)
        if raw is not None:
            value = maybe_json(raw)
            if not isinstance(value, bool):
                raise ApiError(120, {"name": field, "reason": "type"})
            update["enabled"] = value
        for key in ("server_alias", "region"):
            raw = request.param(key)
            if raw is not None:
                update[key] = str(text(raw, key))
        if not update:
            raise ApiError(114)
        self.settings.update(update)
        self.dsm.state.save()
        return {}

    def get_misc_config(self, request):
        self._version(request, "get_misc_config")
        return {"relay_enabled": self.settings["relay_enabled"]}

    def set_misc_config(self, request):
        self._version(request, "set_misc_config")
        raw = request.param("relay_enabled")
        if raw is None:
            raise ApiError(114)
        value = maybe_json(raw)
        if not isinstance(value, bool):
            raise ApiError(120, {"name": "relay_enabled", "reason": "type"})
        self.settings["relay_enabled"] = value
        self.dsm.state.save()
        return {}
