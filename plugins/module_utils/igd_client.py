# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""UPnP Internet Gateway Device (IGD v1/v2) client: SSDP discovery and WAN connection SOAP calls.

Standard library only (plus core's open_url), so the module can run on the NAS itself: routers in
"secure mode" only accept a mapping whose internal client is the host that asks for it.
"""

from __future__ import annotations

import ipaddress
import socket
import time
import xml.etree.ElementTree as ET
from urllib.error import HTTPError, URLError
from urllib.parse import urljoin
from xml.sax.saxutils import escape

from ansible.module_utils.urls import open_url

from ansible_collections.homelab.nas.plugins.module_utils.errors import HomelabError

SSDP_ADDRESS = ("239.255.255.250", 1900)
SEARCH_TARGETS = (
    "urn:schemas-upnp-org:device:InternetGatewayDevice:2",
    "urn:schemas-upnp-org:device:InternetGatewayDevice:1",
)
# Preferred first: the v2 IP connection, then v1, then PPP (DSL routers).
SERVICE_PREFERENCE = (
    "urn:schemas-upnp-org:service:WANIPConnection:2",
    "urn:schemas-upnp-org:service:WANIPConnection:1",
    "urn:schemas-upnp-org:service:WANPPPConnection:1",
)
DEVICE_NS = "urn:schemas-upnp-org:device-1-0"
CONTROL_NS = "urn:schemas-upnp-org:control-1-0"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
MAX_GENERIC_ENTRIES = 4096  # a bound for routers that never answer 713
MAX_LEASE = 604800  # IGD v2's longest lease (one week); v2 routers turn a permanent request into it
WRITES = ("AddPortMapping", "DeletePortMapping")
# The actions every WANIPConnection and WANPPPConnection has (IGD v1 made them required): 401 Invalid Action to
# one of them means the cached service is not the router's. GetListOfPortMappings (v2 only) may well be missing.
CORE_ACTIONS = WRITES + ("GetExternalIPAddress", "GetSpecificPortMappingEntry", "GetGenericPortMappingEntry")
LISTING_SERVICE = "urn:schemas-upnp-org:service:WANIPConnection:2"
# miniupnpd answers NewNumberOfPorts 0 with up to 1000 entries: a listing that long may have been cut short.
LISTING_CAP = 1000
PROTOCOLS = ("tcp", "udp")

# UPnP error codes (IGD WANIPConnection v1/v2) with what they mean for the user.
UPNP_ERRORS = {
    401: "the router does not offer this action",
    402: "the router rejected the arguments",
    501: "the router could not perform the action (miniupnpd answers this when its WAN address is private "
    "or CGNAT: port forwarding is impossible there)",
    606: "the router's policy refuses this mapping (its UPnP permission rules, or secure mode: only the "
    "internal client itself may map ports to it; run the task on that host or set internal_client to the "
    "host running it)",
    713: "no entry at this index",
    714: "no such port mapping",
    715: "the router does not accept a wildcard remote host",
    716: "the router does not accept a wildcard external port",
    718: "the external port is already mapped to another internal client (or, on a router in secure mode, "
    "the internal client is not the host asking)",
    724: "the router requires the same internal and external port",
    725: "the router only accepts permanent leases (lease_duration: 0)",
    726: "the router only accepts a wildcard remote host",
    727: "the router only accepts a wildcard external port",
    728: "the router has no port mappings left",
    729: "the mapping conflicts with another mechanism on the router (a static forward or firewall rule)",
    730: "no port mapping in that range",
    732: "the router does not accept a wildcard internal port",
    733: "inconsistent parameters",
}


class UpnpError(HomelabError):
    """A router failure; `code` is the UPnP error code when the router sent one, `action` the SOAP action
    (the common `method`), `api` the WAN connection service, `status` the HTTP status of a fault."""

    def __init__(self, message, code=None, action=None, api=None, status=None):
        super().__init__(message, code=code, api=api, method=action, status=status)
        self.action = action

    def extra_fail_kwargs(self):
        # The name this module's results used before the common shape; kept for existing playbooks.
        return dict(upnp_error=self.code, action=self.action)


class NoAnswer(UpnpError):
    """No answer from the router: no connection, or its device description cannot be read."""


def search_message(target, mx=2):
    return (
        'M-SEARCH * HTTP/1.1\r\nHOST: %s:%d\r\nMAN: "ssdp:discover"\r\nMX: %d\r\nST: %s\r\n\r\n'
        % (SSDP_ADDRESS[0], SSDP_ADDRESS[1], mx, target)
    ).encode("ascii")


def parse_ssdp_response(data):
    """Headers of an SSDP reply (upper-case names), or None if it is not a 200 reply."""
    text = data.decode("utf-8", "replace")
    lines = text.split("\r\n")
    if not lines or not lines[0].upper().startswith("HTTP/1.1 200"):
        return None
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().upper()] = value.strip()
    return headers


def discover_device(timeout=3.0, mx=2):
    """(description URL, identity) of the first IGD answering an SSDP search (v2 asked first, then v1). The
    identity is the reply's USN, BOOTID.UPNP.ORG and CONFIGID.UPNP.ORG (UPnP Device Architecture 1.1: a device
    changes BOOTID when it reboots, CONFIGID when its description changes), so a cached description is only
    reused for the device that served it, unrebooted and unchanged."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
    try:
        for target in SEARCH_TARGETS:
            sock.sendto(search_message(target, mx), SSDP_ADDRESS)
        deadline = time.monotonic() + timeout
        found = {}
        while time.monotonic() < deadline:
            sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                data, sender = sock.recvfrom(8192)
            except socket.timeout:
                break
            headers = parse_ssdp_response(data)
            if headers and headers.get("LOCATION") and headers.get("ST") in SEARCH_TARGETS:
                found[headers["ST"]] = (headers["LOCATION"], ssdp_identity(headers))
                if SEARCH_TARGETS[0] in found:
                    break
    finally:
        sock.close()
    for target in SEARCH_TARGETS:
        if target in found:
            return found[target]
    raise UpnpError(
        "no UPnP Internet Gateway Device answered within %.1f s on this network. Is UPnP enabled "
        "on the router? Set igd_url to its description URL to skip discovery" % timeout
    )


def ssdp_identity(headers):
    return "|".join(headers.get(name, "") for name in ("USN", "BOOTID.UPNP.ORG", "CONFIGID.UPNP.ORG"))


def parse_description(xml_bytes, location):
    """(serviceType, absolute control URL) of the preferred WAN connection service."""
    try:
        root = ET.fromstring(xml_bytes)
    except ET.ParseError as exc:
        raise UpnpError("the device description at %s is not XML: %s" % (location, exc))
    base = root.findtext("{%s}URLBase" % DEVICE_NS) or location
    services = {}
    for service in root.iter("{%s}service" % DEVICE_NS):
        kind = (service.findtext("{%s}serviceType" % DEVICE_NS) or "").strip()
        control = (service.findtext("{%s}controlURL" % DEVICE_NS) or "").strip()
        if kind and control:
            services.setdefault(kind, urljoin(base, control))
    for kind in SERVICE_PREFERENCE:
        if kind in services:
            return kind, services[kind]
    raise UpnpError(
        "the device at %s is not an Internet Gateway Device (no WANIPConnection or WANPPPConnection service)" % location
    )


def soap_envelope(service, action, args):
    body = "".join("<%s>%s</%s>" % (k, escape(str(v)), k) for k, v in args)
    return (
        '<?xml version="1.0"?>\n<s:Envelope xmlns:s="%s" s:encodingStyle='
        '"http://schemas.xmlsoap.org/soap/encoding/"><s:Body><u:%s xmlns:u="%s">%s</u:%s></s:Body>'
        "</s:Envelope>" % (SOAP_NS, action, service, body, action)
    ).encode("utf-8")


def parse_soap_response(xml_bytes, action):
    """Out-arguments of a successful response as a dict."""
    root = ET.fromstring(xml_bytes)
    for element in root.iter():
        if element.tag.endswith("}" + action + "Response") or element.tag == action + "Response":
            return {child.tag.rsplit("}", 1)[-1]: (child.text or "") for child in element}
    raise UpnpError("%s: the router's answer has no %sResponse" % (action, action), action=action)


def parse_soap_fault(xml_bytes):
    """(errorCode, errorDescription) of a UPnP fault, or (None, None)."""
    try:
        root = ET.fromstring(xml_bytes)
    except ET.ParseError:
        return None, None
    code = root.findtext(".//{%s}errorCode" % CONTROL_NS)
    text = root.findtext(".//{%s}errorDescription" % CONTROL_NS)
    return (int(code) if code and code.strip().isdigit() else None), text


def address_kind(address):
    """'public', 'cgnat' (RFC 6598 100.64.0.0/10), 'private' (or otherwise not global) or 'unknown'."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "unknown"
    if ip.version == 4 and ip in ipaddress.ip_network("100.64.0.0/10"):
        return "cgnat"
    if ip.is_unspecified:
        return "unknown"
    return "public" if ip.is_global else "private"


def stale_control(exc, action):
    """Whether a failed call says the control URL or service type taken from the description cache is no
    longer the router's: HTTP without a UPnP fault (404 for a path the router no longer serves), no connection
    (a rebooted miniupnpd listens on another port unless http_port is set), or UPnP 401 Invalid Action to an
    action every IGD has (another service type behind the URL)."""
    return exc.code is None or (exc.code == 401 and action in CORE_ACTIONS)


class IgdClient:
    """`cache` (igd_description_cache.Descriptions, or None) keeps the description's service type and control URL
    by `location` and `identity` (the SSDP reply's, when discovered). A cached control URL is only written to
    after it answered in this task; when its first answer says it is stale (stale_control), the description is
    fetched again and the call made once more."""

    def __init__(self, location, timeout=10, cache=None, identity=""):
        self.location = location
        self.timeout = timeout
        self.calls = 0
        self._cache = cache
        self._cache_key = "%s|%s" % (location, identity)
        self._answered = False  # the control URL answered in this task
        cached = cache.get(self._cache_key) if cache else None
        self.from_cache = cached is not None
        if cached:
            self.service, self.control_url, self.listing = cached["service"], cached["control_url"], cached["listing"]
        else:
            self._describe()

    def _describe(self):
        self.service, self.control_url = parse_description(self._get(self.location), self.location)
        self.listing = self.service == LISTING_SERVICE  # GetListOfPortMappings, until the router refuses it
        self.from_cache = False
        self._remember()

    def _remember(self):
        if self._cache:
            self._cache.put(
                self._cache_key, dict(service=self.service, control_url=self.control_url, listing=self.listing)
            )

    def close(self):
        """Nothing to release: every call opens its own connection."""

    def _get(self, url):
        try:
            return open_url(url, timeout=self.timeout, validate_certs=False, use_proxy=False).read()
        except (HTTPError, URLError, OSError) as exc:
            raise NoAnswer("cannot read the router's device description at %s: %s" % (url, exc))

    def call(self, action, *args):
        """SOAP call with ordered (name, value) arguments; UPnP faults raise UpnpError."""
        unchecked = self.from_cache and not self._answered
        if unchecked and action in WRITES:
            self._describe()  # never write through a cached control URL that has not answered in this task
            unchecked = False
        try:
            reply = self._call(action, args)
        except UpnpError as exc:
            if not (unchecked and stale_control(exc, action)):
                self._answered = self._answered or exc.code is not None
                raise
            self._cache.drop(self._cache_key)
            self._describe()
            reply = self._call(action, args)
        self._answered = True
        return reply

    def _call(self, action, args):
        self.calls += 1
        headers = {"Content-Type": 'text/xml; charset="utf-8"', "SOAPAction": '"%s#%s"' % (self.service, action)}
        try:
            reply = open_url(
                self.control_url,
                data=soap_envelope(self.service, action, args),
                headers=headers,
                method="POST",
                timeout=self.timeout,
                validate_certs=False,
                use_proxy=False,
            )
            return parse_soap_response(reply.read(), action)
        except HTTPError as exc:
            code, text = parse_soap_fault(exc.read())
            if code is None:
                raise UpnpError(
                    "%s: the router answered HTTP %s" % (action, exc.code),
                    action=action,
                    api=self.service,
                    status=exc.code,
                )
            raise UpnpError(
                "%s failed with UPnP error %s (%s): %s"
                % (action, code, text or "", UPNP_ERRORS.get(code, "router-specific error")),
                code=code,
                action=action,
                api=self.service,
                status=exc.code,
            )
        except (URLError, OSError) as exc:
            raise NoAnswer(
                "%s: cannot reach the router at %s: %s" % (action, self.control_url, exc),
                action=action,
                api=self.service,
            )

    @property
    def router_host(self):
        return self.control_url.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0].strip("[]")

    def external_address(self):
        return self.call("GetExternalIPAddress").get("NewExternalIPAddress", "").strip()

    def get_mapping(self, external_port, protocol):
        """The mapping on (external port, protocol), or None."""
        try:
            entry = self.call(
                "GetSpecificPortMappingEntry",
                ("NewRemoteHost", ""),
                ("NewExternalPort", external_port),
                ("NewProtocol", protocol.upper()),
            )
        except UpnpError as exc:
            if exc.code in (714, 730):
                return None
            raise
        return mapping_record(external_port, protocol, entry)

    def get_mappings(self, wanted):
        """{(protocol, external port): mapping or None} for (protocol, external port) pairs: one
        GetListOfPortMappings per protocol over the span of its ports where the router lists so and more than one
        port of that protocol is wanted, else GetSpecificPortMappingEntry each."""
        found = {}
        for protocol in sorted({pair[0] for pair in wanted}):
            ports = sorted({port for proto, port in wanted if proto == protocol})
            listed = self.list_range(protocol, ports[0], ports[-1]) if len(ports) > 1 else None
            for port in ports:
                found[(protocol, port)] = listed.get(port) if listed is not None else self.get_mapping(port, protocol)
        return found

    def all_mappings(self):
        """Every mapping: GetListOfPortMappings for TCP and for UDP where the router lists so (two requests
        however many it holds), else list_mappings (one request per mapping and one for the end of the list)."""
        mappings = []
        for protocol in PROTOCOLS:
            listed = self.list_range(protocol)
            if listed is None:
                return self.list_mappings()
            mappings += listed.values()
        return mappings

    def list_range(self, protocol, start=1, end=65535):
        """{external port: mapping} of one protocol's mappings in [start, end] by GetListOfPortMappings (IGD v2;
        NewManage 1: every client's, not only this host's), or None where that does not answer it: another
        service, any fault (remembered with the cached description, so later tasks do not ask again), a listing
        that is not XML (routers build it by hand: miniupnpd copies each description in as it stored it, which is
        XML only while the client that set it escaped it) or may have been cut short."""
        if not self.listing:
            return None
        try:
            reply = self.call(
                "GetListOfPortMappings",
                ("NewStartPort", start),
                ("NewEndPort", end),
                ("NewProtocol", protocol.upper()),
                ("NewManage", 1),
                ("NewNumberOfPorts", 0),
            )
        except NoAnswer:
            raise  # the router is not there: no reason to think it lists no mappings
        except UpnpError as exc:
            if exc.code == 730:  # the spec's answer for none in the range (miniupnpd lists none instead)
                return {}
            self.listing = False
            self._remember()
            return None
        entries = parse_port_listing(reply.get("NewPortListing", ""))
        if entries is None or len(entries) >= LISTING_CAP:
            return None
        listed = {}
        for entry in entries:
            record = mapping_record(int(entry.get("NewExternalPort") or 0), entry.get("NewProtocol", ""), entry)
            if record["protocol"] == protocol and start <= record["external_port"] <= end:
                listed[record["external_port"]] = record
        return listed

    def list_mappings(self):
        """Every mapping, through GetGenericPortMappingEntry until the end-of-array error (713)."""
        mappings = []
        for index in range(MAX_GENERIC_ENTRIES):
            try:
                entry = self.call("GetGenericPortMappingEntry", ("NewPortMappingIndex", index))
            except UpnpError as exc:
                if exc.code in (713, 714, 402):  # some routers end the list with 714 or 402
                    break
                raise
            mappings.append(mapping_record(int(entry.get("NewExternalPort") or 0), entry.get("NewProtocol", ""), entry))
        return mappings

    def add_mapping(self, mapping):
        self.call(
            "AddPortMapping",
            ("NewRemoteHost", ""),
            ("NewExternalPort", mapping["external_port"]),
            ("NewProtocol", mapping["protocol"].upper()),
            ("NewInternalPort", mapping["internal_port"]),
            ("NewInternalClient", mapping["internal_client"]),
            ("NewEnabled", 1),
            ("NewPortMappingDescription", mapping["description"]),
            ("NewLeaseDuration", mapping["lease_duration"]),
        )

    def add_mapping_any_lease(self, mapping):
        """add_mapping, working around the lease quirks of real routers: 725 (only permanent leases) retries
        with 0, 402 on a permanent request retries with the longest lease."""
        try:
            self.add_mapping(mapping)
        except UpnpError as exc:
            if exc.code == 725 and mapping["lease_duration"]:
                self.add_mapping(dict(mapping, lease_duration=0))
            elif exc.code == 402 and mapping["lease_duration"] == 0:
                self.add_mapping(dict(mapping, lease_duration=MAX_LEASE))
            else:
                raise

    def delete_mapping(self, external_port, protocol):
        """Delete a mapping; one that is already gone is no error. Routers disagree here (the spec's 714;
        miniupnpd 2.3.1 with nftables answers success for any port), so the result proves nothing:
        read the mapping back with get_mapping to know it is gone."""
        try:
            self.call(
                "DeletePortMapping",
                ("NewRemoteHost", ""),
                ("NewExternalPort", external_port),
                ("NewProtocol", protocol.upper()),
            )
        except UpnpError as exc:
            if exc.code != 714:
                raise


def parse_port_listing(text):
    """The entries of a PortMappingList document (GetListOfPortMappings' NewPortListing, an XML document carried
    as text) under GetGenericPortMappingEntry's argument names, or None when it is not XML."""
    if not text.strip():
        return []
    try:
        root = ET.fromstring(text)
    except ET.ParseError:
        return None
    renamed = {"NewDescription": "NewPortMappingDescription", "NewLeaseTime": "NewLeaseDuration"}
    entries = []
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] == "PortMappingEntry":
            fields = {child.tag.rsplit("}", 1)[-1]: child.text or "" for child in element}
            entries.append({renamed.get(name, name): value for name, value in fields.items()})
    return entries


def mapping_record(external_port, protocol, entry):
    def number(name):
        try:
            return int(entry.get(name) or 0)
        except ValueError:
            return 0

    return {
        "external_port": int(external_port),
        "protocol": protocol.lower(),
        "internal_port": number("NewInternalPort"),
        "internal_client": (entry.get("NewInternalClient") or "").strip(),
        "enabled": (entry.get("NewEnabled") or "1").strip() in ("1", "true"),
        "description": entry.get("NewPortMappingDescription") or "",
        "lease_duration": number("NewLeaseDuration"),
    }
