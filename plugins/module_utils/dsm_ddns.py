# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""DSM's DDNS APIs (SYNO.Core.DDNS.*), in the module's terms: records by provider and hostname.

Wire facts and their sources are in docs/lab-fidelity.md (rows SYNO.Core.DDNS.*). What no source shows,
this file reads tolerantly: booleans as JSON or text, the address choice from `interface_v4`/`interface_v6`
or else from the published address, "no IPv6" as empty, `::` or DSM's `0:0:0:0:0:0:0:0`.
"""

from __future__ import annotations

import ipaddress
import json

from ansible_collections.homelab.nas.plugins.module_utils import dsm_validate as v
from ansible_collections.homelab.nas.plugins.module_utils.dsm_errors import DsmError

RECORD_API = "SYNO.Core.DDNS.Record"
PROVIDER_API = "SYNO.Core.DDNS.Provider"
EXTIP_API = "SYNO.Core.DDNS.ExtIP"
SYNOLOGY_API = "SYNO.Core.DDNS.Synology"
SYNOLOGY_PROVIDER = "synology"
# DSM's "no IPv6 address" (SYNO.Core.DDNS.ExtIP answers it when there is none).
NO_IPV6 = "0:0:0:0:0:0:0:0"
ADDRESS_MODES = ("auto", "disabled")
FAMILIES = ("ipv4", "ipv6")
RECORD_KEYS = ("provider", "hostname", "username", "enabled", "heartbeat", "ipv4", "ipv6")
_DISABLED = ("", "disabled", "disable", "none", "off", "false")
_AUTO = ("auto", "default", "true")
# Where a record's published password would be if DSM returned it (it does not in any public capture).
_PASSWORD_FIELDS = ("passwd", "password")
HIDDEN = "(hidden)"
NOT_READABLE = "(not readable from DSM)"


def _bool(value):
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("true", "1", "yes", "on")


def _address(value, version):
    """An address of that IP version, or None (empty, unparsable, unspecified such as DSM's 0:0:...)."""
    try:
        address = ipaddress.ip_address(str(value or "").strip())
    except ValueError:
        return None
    if address.version != version or address.is_unspecified:
        return None
    return str(address)


def _mode(value, published, version):
    """The record's address choice: auto, disabled, or what DSM says (an interface name, kept as is)."""
    if value is None:
        return "auto" if _address(published, version) else "disabled"
    text = str(value).strip().lower()
    if text in _DISABLED:
        return "disabled"
    if text in _AUTO:
        return "auto"
    return str(value)


def is_synology(provider):
    """Synology's own DDNS (synology.me and its sister domains), whose hostnames need a Synology Account."""
    return str(provider.get("id", "")).lower() == SYNOLOGY_PROVIDER or (
        str(provider.get("provider", "")).lower() == SYNOLOGY_PROVIDER
    )


def desired(params):
    """The module's input, checked before any request: hostname grammar, provider given, choices."""
    provider = str(params.get("provider") or "").strip()
    if not provider:
        raise v.InputError("provider: empty; give the DDNS provider as DSM lists it, for example Synology or DynDNS")
    hostname = v.hostname("hostname", params.get("hostname"))
    if len(hostname.split(".")) < 2:
        raise v.InputError(
            "hostname: '%s' is a single label; DDNS publishes a fully qualified name such as nas.example.com"
            % params.get("hostname")
        )
    want = {"provider": provider, "hostname": hostname, "state": params.get("state") or "present"}
    if want["state"] == "present":
        for family in ("ipv4", "ipv6"):
            if params.get(family) not in ADDRESS_MODES:
                raise v.InputError("%s: '%s' is not a choice; use auto or disabled" % (family, params.get(family)))
        if params["ipv4"] == "disabled" and params["ipv6"] == "disabled":
            raise v.InputError("ipv4, ipv6: both disabled would publish no address; set ipv4 or ipv6 to auto")
        want.update(
            username=params.get("provider_username"),
            password=params.get("provider_password"),
            update_password=params.get("update_password") or "on_create",
            enabled=params.get("enabled", True),
            heartbeat=params.get("heartbeat", False),
            ipv4=params["ipv4"],
            ipv6=params["ipv6"],
            refresh=params.get("refresh", True),
        )
    return want


def record_view(record):
    """A DSM record in the module's terms (never a password)."""
    return {
        "provider": str(record.get("provider", "")),
        "hostname": str(record.get("hostname", "")).strip().rstrip(".").lower(),
        "username": str(record.get("username") or ""),
        "enabled": _bool(record.get("enable", record.get("enabled", False))),
        "heartbeat": _bool(record.get("heartbeat", False)),
        "ipv4": _mode(record.get("interface_v4"), record.get("ip"), 4),
        "ipv6": _mode(record.get("interface_v6"), record.get("ipv6"), 6),
    }


def published(record):
    """What DSM last published for the record: {"ipv4": address or None, "ipv6": address or None}."""
    return {"ipv4": _address(record.get("ip"), 4), "ipv6": _address(record.get("ipv6"), 6)}


def comparable_password(record):
    """The record's password when DSM returned one that can be compared (not empty, not a mask), else None."""
    for field in _PASSWORD_FIELDS:
        value = record.get(field)
        if isinstance(value, str) and value and set(value) != {"*"}:
            return value
    return None


def not_global(address):
    """Why an address the internet cannot reach is one (carrier-grade NAT, private...), or None."""
    if address is None:
        return None
    parsed = ipaddress.ip_address(address)
    if parsed in ipaddress.ip_network("100.64.0.0/10"):
        return "carrier-grade NAT (100.64.0.0/10)"
    if not parsed.is_global:
        return "not a public address"
    return None


def _quoted(value):
    """DSM's JSON-format APIs read each form value as JSON: strings travel JSON-quoted (a bare `12345` or
    `true` would arrive as a number or a boolean), as DSM's own UI and a shipping DSM client send them."""
    return json.dumps(str(value))


class DsmDdns:
    def __init__(self, client):
        self.client = client

    def read(self):
        """(providers, records) from one compound request: Provider.list and Record.list."""
        providers, records = self.client.batch([(PROVIDER_API, "list", 1, {}), (RECORD_API, "list", 1, {})])
        return list(providers.get("providers") or []), list(records.get("records") or [])

    def records(self):
        return list(self.client.read(RECORD_API, "list", 1).get("records") or [])

    def external_address(self):
        """DSM's view of its public addresses (ExtIP.list, WAN entry first), or None when DSM cannot say."""
        try:
            data = self.client.read(EXTIP_API, "list", 2, retry=True)
        except DsmError:
            return None
        entries = data if isinstance(data, list) else [data] if isinstance(data, dict) and data else []
        entries = [e for e in entries if isinstance(e, dict)]
        if not entries:
            return None
        entry = next((e for e in entries if str(e.get("type", "")).upper() == "WAN"), entries[0])
        return {"ipv4": _address(entry.get("ip"), 4), "ipv6": _address(entry.get("ipv6"), 6)}

    def synology_account(self):
        """The Synology Account DSM is signed in to (its e-mail), "" when none, None when DSM does not say."""
        try:
            return str(self.client.read(SYNOLOGY_API, "get_myds_account", 1).get("email") or "")
        except DsmError:
            return None

    @staticmethod
    def _fields(want, external, password):
        fields = {
            "provider": _quoted(want["provider"]),
            "hostname": _quoted(want["hostname"]),
            "enable": bool(want["enabled"]),
            "heartbeat": bool(want["heartbeat"]),
            "interface_v4": _quoted(want["ipv4"]),
            "interface_v6": _quoted(want["ipv6"]),
            "ip": _quoted((external or {}).get("ipv4") or "" if want["ipv4"] == "auto" else ""),
            "ipv6": _quoted((external or {}).get("ipv6") or NO_IPV6 if want["ipv6"] == "auto" else NO_IPV6),
        }
        if want.get("username") is not None:
            fields["username"] = _quoted(want["username"])
        if password is not None:
            fields["passwd"] = _quoted(password)
        return fields

    def create(self, want, external, password):
        self.client.write(RECORD_API, "create", 1, **self._fields(want, external, password))

    def update(self, record, want, external, password):
        fields = self._fields(want, external, password)
        fields["id"] = _quoted(record["id"])
        if record.get("net") is not None:
            fields["net"] = _quoted(record["net"])  # DSM's own value, echoed as a real client does
        self.client.write(RECORD_API, "set", 1, **fields)

    def delete(self, record):
        self.client.write(RECORD_API, "delete", 1, id=[record["id"]])

    def update_ip_address(self, record):
        self.client.write(RECORD_API, "update_ip_address", 1, id=_quoted(record["id"]))


# -- planning: DSM's records -> before/after in the module's terms ------------------------------------
def _names(provider):
    return {str(provider.get("id", "")).lower(), str(provider.get("provider", "")).lower()} - {""}


def _label(provider):
    return str(provider.get("provider") or provider.get("id"))


def find_provider(providers, name):
    """The provider DSM lists under that id or name (without case); an unknown one names those DSM offers."""
    wanted = name.lower()
    for provider in providers:
        if wanted in _names(provider):
            return provider
    offered = sorted(_label(p) for p in providers)
    raise v.InputError(
        "provider: '%s' is not a DDNS provider this DSM offers; use one of: %s"
        % (name, ", ".join(offered) or "(DSM lists none)")
    )


def find_record(records, provider, hostname):
    names = _names(provider)
    for record in records:
        if str(record.get("provider", "")).lower() in names and record_view(record)["hostname"] == hostname:
            return record
    return None


def report(record):
    """A DSM record as the module returns it (never a password); None for no record."""
    if record is None:
        return None
    out = dict(record_view(record), id=record.get("id"))
    out.update(published=published(record), status=record.get("status"), last_updated=record.get("lastupdated"))
    return out


def stale(record, want, external):
    """The address families whose published address differs from the external one DSM detects."""
    if external is None or not want["enabled"] or not want["refresh"]:
        return []
    now = published(record or {})
    return [f for f in FAMILIES if want[f] == "auto" and external[f] is not None and now[f] != external[f]]


class Plan:
    """before/after for ApiModule.converge, the apply that gets there, the planned result, warnings."""

    def __init__(self, before, after, apply, result, warnings=()):
        self.before, self.after, self.apply, self.result = before, after, apply, result
        self.warnings = list(warnings)


def _check_new_or_synology(ddns, want, provider, records, record):
    """Refusals before any write: Synology's hostnames are never created; a provider keeps one record."""
    names = _names(provider)
    if is_synology(provider):
        given = [o for o, key in (("provider_username", "username"), ("provider_password", "password")) if want[key]]
        if given:
            raise v.InputError(
                "%s: Synology's provider uses the Synology Account DSM is signed in to; leave %s out"
                % (", ".join(given), " and ".join(given))
            )
        if record is None:
            account = ddns.synology_account()
            known = sorted(r.get("hostname", "") for r in records if str(r.get("provider", "")).lower() in names)
            raise v.InputError(
                "hostname: DSM has no Synology DDNS record for %s (its Synology records: %s). Synology's hostnames "
                "are registered in DSM with a Synology Account (Control Panel > External Access > DDNS > Add, "
                "provider Synology; %s) and cannot be created through this API; register it there once, then "
                "this task manages it"
                % (
                    want["hostname"],
                    ", ".join(known) or "none",
                    "DSM is signed in as %s" % account if account else "DSM is not signed in to a Synology Account",
                )
            )
        return
    if record is not None:
        return
    # DSM keeps one record per provider, its id being the provider's (S9, S10); where ids differ, DSM
    # evidently allows more, and a create is tried.
    taken = [
        r for r in records if str(r.get("provider", "")).lower() in names and str(r.get("id", "")).lower() in names
    ]
    if taken:
        raise v.InputError(
            "hostname: DSM keeps one DDNS record per provider and its %s record is for %s; remove that one first "
            "(state: absent, hostname: %s) or use another provider"
            % (_label(provider), taken[0].get("hostname"), taken[0].get("hostname"))
        )
    missing = [o for o, key in (("provider_username", "username"), ("provider_password", "password")) if not want[key]]
    if missing:
        raise v.InputError(
            "%s: creating a %s record needs the account at the provider; give %s"
            % (", ".join(missing), _label(provider), " and ".join(missing))
        )


def plan(ddns, want, on_write=None, warn=None):
    """Everything read and checked (raising InputError before any write); nothing written until apply().

    on_write() is called once something was written; warn(text) for what apply() learns."""
    providers, records = ddns.read()
    provider = find_provider(providers, want["provider"])
    record = find_record(records, provider, want["hostname"])
    if want["state"] == "absent":
        before = record_view(record) if record else {}
        return Plan(before, {}, lambda: ddns.delete(record), dict(record=None, external_address=None, refreshed=False))

    _check_new_or_synology(ddns, want, provider, records, record)
    synology = is_synology(provider)
    external = ddns.external_address()
    warnings = []
    for family in FAMILIES:
        why = not_global((external or {}).get(family)) if want[family] == "auto" else None
        if why:
            warnings.append(
                "DSM's external %s address %s is %s: %s will point at an address the internet cannot reach"
                % (family, external[family], why, want["hostname"])
            )

    before = dict(record_view(record)) if record else {}
    after = {
        "provider": before.get("provider") or str(provider.get("id")),
        "hostname": want["hostname"],
        "username": before.get("username", "") if synology or want["username"] is None else want["username"],
        "enabled": want["enabled"],
        "heartbeat": want["heartbeat"],
        "ipv4": want["ipv4"],
        "ipv6": want["ipv6"],
    }
    password = None
    if not synology and want["password"] is not None:
        if record is None:
            password = want["password"]
        elif want["update_password"] == "always" and comparable_password(record) != want["password"]:
            password = want["password"]
    if password is not None:
        if record is not None:
            before["password"] = NOT_READABLE
        after["password"] = HIDDEN
    families = stale(record, want, external) if record is not None else []
    if families:
        before["published"] = {f: published(record)[f] for f in families}
        after["published"] = {f: external[f] for f in families}
    fields = dict(want, **{k: after[k] for k in RECORD_KEYS})

    def apply():
        if record is None:
            ddns.create(fields, external, password)
        elif any(before.get(k) != after[k] for k in RECORD_KEYS) or password is not None:
            ddns.update(record, fields, external, password)
        if on_write:
            on_write()
        now = find_record(ddns.records(), provider, want["hostname"])
        refreshed = False
        if now is not None and stale(now, want, external):
            ddns.update_ip_address(now)
            refreshed = True
            now = find_record(ddns.records(), provider, want["hostname"])
            left = stale(now, want, external)
            if left and warn:
                # The record's ip/ipv6 are the published address on the DSMs public sources show; a DSM
                # that answers otherwise would have every run refresh again.
                warn(
                    "DSM took the update request for %s but still lists %s for it, not the external address %s; "
                    "if DSM does not report the published address, set refresh: false"
                    % (
                        want["hostname"],
                        ", ".join(str(published(now or {})[f]) for f in left),
                        ", ".join(external[f] for f in left),
                    )
                )
        return dict(record=report(now), refreshed=refreshed)

    if record is not None and before == after:
        planned = report(record)
    else:
        planned = dict({k: after[k] for k in RECORD_KEYS}, id=(record or {}).get("id"))
        planned.update(
            published=dict(published(record or {}), **after.get("published", {})),
            status=(record or {}).get("status"),
            last_updated=(record or {}).get("lastupdated"),
        )
    result = dict(record=planned, external_address=external, refreshed=bool(families))
    return Plan(before, after, apply, result, warnings)
