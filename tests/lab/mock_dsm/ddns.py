"""SYNO.Core.DDNS.Record / Provider / ExtIP / Synology: DSM's DDNS records, stateful.

Sources (docs/lab-fidelity.md has a row per method): mikespub/synology's API dump `tools/combined.json`
(methods and versions from DSM's lib/SYNO.Core.DDNS.so) and its schemas `tools/schemas/SYNO.Core.DDNS.*`
(the list answers' keys, generated from real replies); a shipping DSM client (S10 in the project's
api-facts-2.md: set/update_ip_address/delete fields, `id` of delete as a JSON array, strings JSON-quoted,
the password sent only when it changes); the LanStash DSM docs (S9: record fields incl. interface_v4/v6,
one record per provider, the record id is the provider id, `service_ddns_normal`).

Lab's own, where no source says: the providers' ids and names, the error codes for a refused create/set
(120 naming the parameter), the values of interface_v4/v6 (`auto`/`disabled`), that a create or set
publishes the current external address at once, and the external address itself (lab config
`ddns_external_ipv4` / `ddns_external_ipv6`, standing in for Synology's check-IP service).
"""

from __future__ import annotations

import datetime
import ipaddress
import re

from tests.lab.mock_dsm.api import Api
from tests.lab.mock_dsm.params import boolean, invalid, json_value, maybe_json, required, text

RECORD_API = "SYNO.Core.DDNS.Record"
NO_IPV6 = "0:0:0:0:0:0:0:0"
SYNOLOGY = "Synology"
MODES = ("auto", "disabled")
LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
# The lab's providers (ids and names are the lab's own; the keys are mikespub's Provider-list schema).
PROVIDERS = [
    {"id": "Synology", "provider": "Synology", "website": "https://account.synology.com"},
    {"id": "DynDNS", "provider": "DynDNS", "website": "https://account.dyn.com"},
    {"id": "noip", "provider": "No-IP.com", "website": "https://www.noip.com"},
    {"id": "FreeDNS", "provider": "FreeDNS", "website": "https://freedns.afraid.org"},
]
# A synology.me hostname registered through DSM's wizard with the lab's Synology Account, not enabled.
SYNOLOGY_HOSTNAME = "labnas.synology.me"
MYDS_ACCOUNT = "owner@example.test"
LISTED = (
    "id",
    "provider",
    "hostname",
    "username",
    "enable",
    "heartbeat",
    "status",
    "ip",
    "ipv6",
    "net",
    "interface_v4",
    "interface_v6",
    "lastupdated",
)


def initial_state():
    return {
        "providers": [dict(p) for p in PROVIDERS],
        "records": [
            {
                "id": SYNOLOGY,
                "provider": SYNOLOGY,
                "hostname": SYNOLOGY_HOSTNAME,
                "username": MYDS_ACCOUNT,
                "enable": False,
                "heartbeat": False,
                "status": "",
                "ip": "",
                "ipv6": NO_IPV6,
                "net": "DEFAULT",
                "interface_v4": "auto",
                "interface_v6": "disabled",
                "lastupdated": "",
            }
        ],
        "myds_account": MYDS_ACCOUNT,
    }


def apis(dsm):
    ddns = Ddns(dsm)
    return {
        RECORD_API: Api(
            "entry.cgi",
            1,
            1,
            {
                "list": (ddns.record_list, False),
                "create": (ddns.record_create, True),
                "set": (ddns.record_set, True),
                "delete": (ddns.record_delete, True),
                "update_ip_address": (ddns.update_ip_address, True),
            },
        ),
        "SYNO.Core.DDNS.Provider": Api("entry.cgi", 1, 1, {"list": (ddns.provider_list, False)}),
        "SYNO.Core.DDNS.ExtIP": Api("entry.cgi", 1, 2, {"list": (ddns.extip_list, False)}),
        "SYNO.Core.DDNS.Synology": Api("entry.cgi", 1, 1, {"get_myds_account": (ddns.myds_account, False)}),
    }


def _hostname(value):
    name = str(value or "").strip().rstrip(".").lower()
    labels = name.split(".")
    if len(name) > 253 or len(labels) < 2 or not all(LABEL.match(label) for label in labels):
        raise invalid("hostname")
    return name


def _address(name, value, version):
    if value in ("", None) or (version == 6 and value == NO_IPV6):
        return
    try:
        if ipaddress.ip_address(value).version == version:
            return
    except ValueError:
        pass
    raise invalid(name)


class Ddns:
    def __init__(self, dsm):
        self.dsm = dsm
        self.state = dsm.state

    @property
    def data(self):
        return self.state.data["ddns"]

    def external(self):
        """What DSM's check-IP lookup finds: the lab's config (None for "no IPv6")."""
        return self.dsm.config.get("ddns_external_ipv4"), self.dsm.config.get("ddns_external_ipv6")

    # -- reads -----------------------------------------------------------------------------
    def record_list(self, request):
        return {
            "next_update_time": "",
            "records": [{key: record[key] for key in LISTED} for record in self.data["records"]],
        }

    def provider_list(self, request):
        return {"providers": [dict(p) for p in self.data["providers"]]}

    def extip_list(self, request):
        ipv4, ipv6 = self.external()
        return [{"ip": ipv4 or "", "ipv6": ipv6 or NO_IPV6, "type": "WAN"}]

    def myds_account(self, request):
        return {"email": self.data["myds_account"]}

    # -- writes ----------------------------------------------------------------------------
    def _provider(self, value):
        for provider in self.data["providers"]:
            if provider["id"] == value:
                return provider
        raise invalid("provider")

    def _record(self, record_id):
        for record in self.data["records"]:
            if record["id"] == record_id:
                return record
        raise invalid("id")

    def _fields(self, request):
        """The optional fields of create/set, checked before anything changes."""
        update = {}
        for name in ("username", "net"):
            if request.param(name) is not None:
                update[name] = str(text(request.param(name), name))
        for name in ("enable", "heartbeat"):
            if request.param(name) is not None:
                update[name] = boolean(maybe_json(request.param(name)))
        for name in ("interface_v4", "interface_v6"):
            if request.param(name) is not None:
                value = text(request.param(name), name)
                if value not in MODES:
                    raise invalid(name)
                update[name] = value
        for name, version in (("ip", 4), ("ipv6", 6)):
            if request.param(name) is not None:
                _address(name, text(request.param(name), name), version)
        if request.param("passwd") is not None:
            update["passwd"] = str(text(request.param("passwd"), "passwd"))
        return update

    def _publish(self, record):
        """DSM sends the provider its current external address (the lab does not call a provider)."""
        if not record["enable"]:
            return
        ipv4, ipv6 = self.external()
        record["ip"] = (ipv4 or "") if record["interface_v4"] == "auto" else ""
        record["ipv6"] = (ipv6 or NO_IPV6) if record["interface_v6"] == "auto" else NO_IPV6
        record["lastupdated"] = datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")
        record["status"] = "service_ddns_normal"

    def record_create(self, request):
        provider_id = text(required(request, "provider"), "provider")
        hostname = _hostname(text(required(request, "hostname"), "hostname"))
        provider = self._provider(provider_id)
        if provider["id"] == SYNOLOGY:
            # Synology's hostnames come from SYNO.Core.DDNS.Synology register_hostname with an account.
            raise invalid("provider", "synology")
        if any(r["provider"] == provider["id"] for r in self.data["records"]):
            raise invalid("provider", "exist")  # one record per provider (S9); the code is the lab's
        required(request, "username")
        required(request, "passwd")
        fields = self._fields(request)
        record = {
            "id": provider["id"],
            "provider": provider["id"],
            "hostname": hostname,
            "username": "",
            "enable": True,
            "heartbeat": False,
            "status": "",
            "ip": "",
            "ipv6": NO_IPV6,
            "net": "DEFAULT",
            "interface_v4": "auto",
            "interface_v6": "disabled",
            "lastupdated": "",
        }
        record.update(fields)
        self._publish(record)
        self.data["records"].append(record)
        self.state.save()
        return {}

    def record_set(self, request):
        record = self._record(text(required(request, "id"), "id"))
        if request.param("provider") is not None and text(request.param("provider"), "provider") != record["provider"]:
            raise invalid("provider")
        update = self._fields(request)
        if request.param("hostname") is not None:
            hostname = _hostname(text(request.param("hostname"), "hostname"))
            if record["provider"] == SYNOLOGY and hostname != record["hostname"]:
                raise invalid("hostname", "synology")
            update["hostname"] = hostname
        record.update(update)
        self._publish(record)
        self.state.save()
        return {}

    def record_delete(self, request):
        ids = json_value(required(request, "id"), "id")
        if not isinstance(ids, list) or not ids:
            raise invalid("id")
        for record_id in ids:
            self._record(record_id)  # every id checked before anything goes
        self.data["records"] = [r for r in self.data["records"] if r["id"] not in ids]
        self.state.save()
        return {}

    def update_ip_address(self, request):
        raw = request.param("id")
        if raw is None:
            records = self.data["records"]
        else:
            records = [self._record(text(raw, "id"))]
        for record in records:
            self._publish(record)
        self.state.save()
        return {}
