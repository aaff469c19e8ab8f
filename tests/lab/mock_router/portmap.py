"""WANIPConnection:2 port-mapping actions, as the IGD v2 spec and Debian's miniupnpd 2.3.1 (nftables) do them.

`mappings` is a list, oldest first, of JSON-able entries {port, proto, iport, client, desc, expires}; both
GetGenericPortMappingEntry and GetListOfPortMappings list it newest first, as miniupnpd walks its rules.
Each quirk of miniupnpd that departs from the spec has a `strict_spec` twin (lab setting): the spec's
answer instead of miniupnpd's.
"""

from __future__ import annotations

import ipaddress
from xml.sax.saxutils import escape

from tests.lab.mock_router.soap import Fault

ACTIONS = (
    "AddPortMapping",
    "AddAnyPortMapping",
    "GetSpecificPortMappingEntry",
    "GetGenericPortMappingEntry",
    "DeletePortMapping",
    "GetListOfPortMappings",
    "DeletePortMappingRange",
)
MAX_LEASE = 604800  # IGD:2: the most a gateway grants, and what it grants for 0
LIST_DEFAULT = 1000  # miniupnpd: NewNumberOfPorts 0 lists up to 1000
PORT_LIST = (
    '<p:PortMappingList xmlns:p="urn:schemas-upnp-org:gw:WANIPConnection" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="urn:schemas-upnp-org:gw:'
    'WANIPConnection http://www.upnp.org/schemas/gw/WANIPConnection-v2.xsd">%s</p:PortMappingList>'
)
LIST_ENTRY = (
    "<p:PortMappingEntry><p:NewRemoteHost></p:NewRemoteHost><p:NewExternalPort>%d</p:NewExternalPort>"
    "<p:NewProtocol>%s</p:NewProtocol><p:NewInternalPort>%d</p:NewInternalPort>"
    "<p:NewInternalClient>%s</p:NewInternalClient><p:NewEnabled>%d</p:NewEnabled>"
    "<p:NewDescription>%s</p:NewDescription><p:NewLeaseTime>%d</p:NewLeaseTime></p:PortMappingEntry>"
)


class PortMappings:
    """The actions; `igd` gives config, the mapping list, the clock and whether the WAN address is usable."""

    def __init__(self, igd):
        self.igd = igd

    @property
    def strict(self):
        return self.igd.config["strict_spec"]

    # -- arguments -------------------------------------------------------------
    def port(self, value, wildcard_fault=402):
        """miniupnpd reads ports with atoi into 16 bits: 70000 becomes 4464 and junk becomes 0."""
        text = (value or "").strip()
        digits = text[: len(text) - len(text.lstrip("0123456789"))] if text[:1].isdigit() else ""
        number = int(digits) if digits else 0
        if self.strict and (not text.isdigit() or not 0 <= number <= 65535):
            raise Fault(402)
        number %= 65536
        if number == 0:
            raise Fault(wildcard_fault)
        return number

    def proto(self, value):
        """miniupnpd: "UDP" in any case is UDP, anything else TCP; the spec allows only TCP and UDP."""
        if (value or "").upper() == "UDP":
            return "UDP"
        if self.strict and (value or "").upper() != "TCP":
            raise Fault(402)
        return "TCP"

    def find(self, port, proto):
        for entry in self.igd.mappings:
            if entry["port"] == port and entry["proto"] == proto:
                return entry
        return None

    def remaining(self, entry):
        return 0 if entry["expires"] is None else max(0, entry["expires"] - self.igd.now())

    def enabled(self, entry):
        # miniupnpd's answers hard-code NewEnabled 1; the spec keeps what was set.
        return entry["enabled"] if self.strict else 1

    # -- actions ---------------------------------------------------------------
    def AddPortMapping(self, args, client):
        internal_client = self._client(args, client, secure_fault=718)
        if not all(args.get(k) is not None for k in ("NewInternalPort", "NewExternalPort", "NewProtocol")):
            raise Fault(402)
        port = self.port(args["NewExternalPort"], wildcard_fault=716)
        iport, proto = self._iport(args), self.proto(args["NewProtocol"])
        lease = self._lease(args)
        self._redirect(port, proto, iport, internal_client, args)
        self._store(port, proto, iport, internal_client, args, lease)
        return []

    def AddAnyPortMapping(self, args, client):
        internal_client = self._client(args, client, secure_fault=606)
        if not all(args.get(k) is not None for k in ("NewInternalPort", "NewExternalPort", "NewProtocol")):
            raise Fault(402)
        wanted = (args["NewExternalPort"] or "").strip()
        # miniupnpd starts at a random port for 0 or "*"; the lab starts at 1024, to be repeatable.
        port = 1024 if wanted in ("*", "0") else self.port(wanted)
        iport, proto = self.port(args["NewInternalPort"]), self.proto(args["NewProtocol"])
        lease = self._lease(args, cap=self.strict)  # miniupnpd turns 0 into 604800 but caps nothing here
        # The port asked for, then port+1, port-1, port+2… skipping ones refused or held by another client.
        for candidate in _around(port):
            try:
                self._redirect(candidate, proto, iport, internal_client, args)
            except Fault as fault:
                if fault.code in (606, 718):
                    continue
                raise
            self._store(candidate, proto, iport, internal_client, args, lease)
            return [("NewReservedPort", candidate)]
        raise Fault(728)

    def GetSpecificPortMappingEntry(self, args, client):
        if args.get("NewExternalPort") is None or args.get("NewProtocol") is None:
            raise Fault(402)
        entry = self.find(self.port(args["NewExternalPort"]), self.proto(args["NewProtocol"]))
        if entry is None:
            raise Fault(714)
        return [
            ("NewInternalPort", entry["iport"]),
            ("NewInternalClient", entry["client"]),
            ("NewEnabled", self.enabled(entry)),
            ("NewPortMappingDescription", entry["desc"]),
            ("NewLeaseDuration", self.remaining(entry)),
        ]

    def GetGenericPortMappingEntry(self, args, client):
        text = (args.get("NewPortMappingIndex") or "").strip()
        if not text.lstrip("-").isdigit():
            raise Fault(402)
        listed = self.igd.mappings[::-1]
        index = int(text)
        if not 0 <= index < len(listed):
            raise Fault(713)
        entry = listed[index]
        return [
            ("NewRemoteHost", ""),
            ("NewExternalPort", entry["port"]),
            ("NewProtocol", entry["proto"]),
            ("NewInternalPort", entry["iport"]),
            ("NewInternalClient", entry["client"]),
            ("NewEnabled", self.enabled(entry)),
            ("NewPortMappingDescription", entry["desc"]),
            ("NewLeaseDuration", self.remaining(entry)),
        ]

    def DeletePortMapping(self, args, client):
        if args.get("NewExternalPort") is None or args.get("NewProtocol") is None:
            raise Fault(402)
        entry = self.find(self.port(args["NewExternalPort"]), self.proto(args["NewProtocol"]))
        if entry is None:
            # miniupnpd 2.3.1's nftables backend reports success for any port; the spec says 714.
            if self.strict:
                raise Fault(714)
            return []
        if self.igd.config["secure_mode"] and entry["client"] != client:
            raise Fault(606)
        self.igd.mappings.remove(entry)
        return []

    def GetListOfPortMappings(self, args, client):
        start, end, proto = self._range(args, ("NewNumberOfPorts",))
        limit = int(args["NewNumberOfPorts"]) or LIST_DEFAULT
        entries = [e for e in self._managed(args, client)[::-1] if e["proto"] == proto and start <= e["port"] <= end][
            :limit
        ]
        listing = PORT_LIST % "".join(
            LIST_ENTRY
            % (e["port"], e["proto"], e["iport"], e["client"], self.enabled(e), escape(e["desc"]), self.remaining(e))
            for e in entries
        )
        # The listing is an XML document carried as text: miniupnpd wraps it in CDATA.
        return "<NewPortListing><![CDATA[%s]]></NewPortListing>" % listing

    def DeletePortMappingRange(self, args, client):
        start, end, proto = self._range(args, ())
        doomed = [e for e in self._managed(args, client) if e["proto"] == proto and start <= e["port"] <= end]
        if not doomed:
            raise Fault(730)
        for entry in doomed:
            self.igd.mappings.remove(entry)
        return []

    # -- helpers ---------------------------------------------------------------
    def _client(self, args, client, secure_fault):
        internal_client = (args.get("NewInternalClient") or "").strip()
        if not internal_client:
            raise Fault(402 if self.strict else 501)  # miniupnpd fails building "ip:port" for an empty one
        try:
            ipaddress.IPv4Address(internal_client)
        except ValueError:
            raise Fault(402) from None  # miniupnpd tries a DNS lookup first; the lab resolves nothing
        if self.igd.config["secure_mode"] and internal_client != client:
            raise Fault(secure_fault)
        return internal_client

    def _iport(self, args):
        try:
            return self.port(args["NewInternalPort"])
        except Fault:
            if self.strict:
                raise
            raise Fault(606) from None  # miniupnpd: internal port 0 fails its permission rules

    def _lease(self, args, cap=True):
        text = (args.get("NewLeaseDuration") or "0").strip()
        if not text.isdigit():
            if self.strict:
                raise Fault(402)
            text = "0"
        lease = int(text)
        if self.igd.config["permanent_only"]:
            if lease:
                raise Fault(725)
            return 0
        if self.igd.config["forced_lease"]:
            return int(self.igd.config["forced_lease"])
        return MAX_LEASE if lease == 0 or (cap and lease > MAX_LEASE) else lease

    def _redirect(self, port, proto, iport, internal_client, args):
        """The checks of adding one mapping, in miniupnpd's order."""
        if self.igd.wan_reserved():
            raise Fault(501)
        if port < self.igd.config["min_external_port"]:
            raise Fault(606)
        held = self.find(port, proto)
        if held and held["client"] != internal_client:
            raise Fault(718)

    def _store(self, port, proto, iport, internal_client, args, lease):
        held = self.find(port, proto)
        expires = None if lease == 0 else self.igd.now() + lease
        enabled = 0 if (args.get("NewEnabled") or "1").strip() in ("0", "false") else 1
        if held and held["iport"] == iport and not self.strict:
            # miniupnpd (nftables) renews the lease of the rule it has and keeps its old description.
            held.update(expires=expires, enabled=enabled)
            return
        if held:
            self.igd.mappings.remove(held)
        self.igd.mappings.append(
            {
                "port": port,
                "proto": proto,
                "iport": iport,
                "client": internal_client,
                "desc": args.get("NewPortMappingDescription") or "",
                "enabled": enabled,
                "expires": expires,
            }
        )

    def _managed(self, args, client):
        """The spec: NewManage 0 means the caller's own mappings only; miniupnpd 2.3.1 ignores NewManage."""
        if self.strict and (args.get("NewManage") or "0").strip() not in ("1", "true"):
            return [e for e in self.igd.mappings if e["client"] == client]
        return list(self.igd.mappings)

    def _range(self, args, extra):
        names = ("NewStartPort", "NewEndPort", "NewProtocol") + extra
        if any(args.get(n) is None for n in names) or not all(
            (args[n] or "").strip().isdigit() for n in names if n != "NewProtocol"
        ):
            raise Fault(402)
        start, end = int(args["NewStartPort"]) % 65536, int(args["NewEndPort"]) % 65536
        if start > end:
            raise Fault(733)
        return start, end, self.proto(args["NewProtocol"])


def _around(port):
    yield port
    for step in range(1, 65536):
        for candidate in (port + step, port - step):
            if 1 <= candidate <= 65535:
                yield candidate
