"""A UPnP IGD v2 router: device description, WANIPConnection:2 SOAP control, stateful mappings.

Modelled on the IGD specifications and miniupnpd 2.3.1 as observed (../shared/reference/router-upnp.md):
faults are HTTP 500 with a UPnPError body; GetGenericPortMappingEntry ends with 713; a mapping held by
another client is 718; secure mode refuses mappings for another host (718); ports below
`min_external_port` are refused by policy (606); a private or CGNAT WAN address is withheld
(GetExternalIPAddress answers empty) and AddPortMapping then fails with 501. Configurable quirks:
`permanent_only` (725 for non-zero leases, as some Netgear routers do).
"""

from __future__ import annotations

import ipaddress
import time
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from tests.lab.common.app import MockApp
from tests.lab.common.errors import MockError
from tests.lab.common.http import Response
from tests.lab.common.state import JsonState

SERVICE = "urn:schemas-upnp-org:service:WANIPConnection:2"
CONTROL_PATH = "/ctl/IPConn"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
ARGS = ("NewRemoteHost", "NewExternalPort", "NewProtocol", "NewInternalPort", "NewInternalClient", "NewEnabled",
        "NewPortMappingDescription", "NewLeaseDuration")
ERROR_TEXT = {401: "Invalid Action", 402: "Invalid Args", 501: "Action Failed", 606: "Action not authorized",
              713: "SpecifiedArrayIndexInvalid", 714: "NoSuchEntryInArray", 716: "WildCardNotPermittedInExtPort",
              718: "ConflictInMappingEntry", 725: "OnlyPermanentLeasesSupported"}
DEFAULT_CONFIG = {"external_ip": "100.128.77.2", "secure_mode": False, "min_external_port": 1,
                  "permanent_only": False, "max_lease": 604800}

DESCRIPTION = """<?xml version="1.0"?>
<root xmlns="urn:schemas-upnp-org:device-1-0"><specVersion><major>1</major><minor>1</minor></specVersion>
<device><deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:2</deviceType>
<friendlyName>homelab.nas lab router</friendlyName><UDN>uuid:6b1f3c10-8f3e-4d8e-9a55-1ab0c0ffee02</UDN>
<serviceList><service><serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType>
<serviceId>urn:upnp-org:serviceId:L3Forwarding1</serviceId><controlURL>/ctl/L3F</controlURL>
<eventSubURL>/evt/L3F</eventSubURL><SCPDURL>/L3F.xml</SCPDURL></service></serviceList>
<deviceList><device><deviceType>urn:schemas-upnp-org:device:WANDevice:2</deviceType>
<friendlyName>WANDevice</friendlyName><UDN>uuid:6b1f3c10-8f3e-4d8e-9a55-1ab0c0ffee03</UDN>
<deviceList><device><deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:2</deviceType>
<friendlyName>WANConnectionDevice</friendlyName><UDN>uuid:6b1f3c10-8f3e-4d8e-9a55-1ab0c0ffee04</UDN>
<serviceList><service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:2</serviceType>
<serviceId>urn:upnp-org:serviceId:WANIPConn1</serviceId><controlURL>/ctl/IPConn</controlURL>
<eventSubURL>/evt/IPConn</eventSubURL><SCPDURL>/WANIPCn.xml</SCPDURL></service></serviceList>
</device></deviceList></device></deviceList></device></root>
"""


class Fault(MockError):
    """A UPnP error, answered as a SOAP fault with a UPnPError body."""


def _key(port, proto):
    return "%d/%s" % (port, proto)


class MockIgd(MockApp):
    default_config = DEFAULT_CONFIG

    def __init__(self, state_path=None):
        # mappings: "ext port/TCP|UDP" -> entry with an absolute expiry
        super().__init__(JsonState(lambda: {"mappings": {}}, state_path))
        self.lock = self.state.lock

    @property
    def mappings(self):
        return self.state.data["mappings"]

    # -- lab hooks -----------------------------------------------------------
    def lab_state(self):
        with self.lock:
            self._expire()
            return {"config": dict(self.config),
                    "mappings": [dict(m, NewLeaseDuration=self._remaining(m)) for m in self._ordered()]}

    def fault_response(self, fault):
        return _fault(int(fault.get("code", 501)))

    def describe_call(self, request):
        if request.path == CONTROL_PATH:
            action = request.headers.get("SOAPAction", "").strip('"').rpartition("#")[2]
            return "WANIPConnection", action, {}
        return "description", request.path, {}

    # -- HTTP ----------------------------------------------------------------
    def handle(self, request):
        if request.verb == "GET" and request.path == "/rootDesc.xml":
            return Response(body=DESCRIPTION.encode(), content_type='text/xml; charset="utf-8"')
        if request.path != CONTROL_PATH or request.verb != "POST":
            return Response(404, b"", "text/html")
        soap_action = request.headers.get("SOAPAction")
        if not soap_action:
            return Response(400, b"", "text/html")
        service, separator, action = soap_action.strip('"').rpartition("#")
        if not separator or service != SERVICE:
            return _fault(401)
        try:
            args = _parse_args(request.raw_body, action)
            with self.lock:
                self._expire()
                handler = getattr(self, "_" + action, None)
                if handler is None:
                    raise Fault(401)
                out = handler(args, request.client)
                self.state.save()
        except Fault as exc:
            return _fault(exc.code)
        return _ok(action, out)

    # -- actions ---------------------------------------------------------------
    def _GetExternalIPAddress(self, args, client):
        return [("NewExternalIPAddress", "" if self._wan_reserved() else self.config["external_ip"])]

    def _GetStatusInfo(self, args, client):
        return [("NewConnectionStatus", "Connected"), ("NewLastConnectionError", "ERROR_NONE"), ("NewUptime", 3600)]

    def _AddPortMapping(self, args, client):
        port, proto = _port(args.get("NewExternalPort")), _proto(args.get("NewProtocol"))
        internal_client = args.get("NewInternalClient", "")
        try:
            ipaddress.IPv4Address(internal_client)
        except ValueError:
            raise Fault(402)
        internal_port = _port(args.get("NewInternalPort"))
        lease = int(args.get("NewLeaseDuration") or 0)
        if self._wan_reserved():
            raise Fault(501)
        if port < self.config["min_external_port"]:
            raise Fault(606)
        if self.config["secure_mode"] and internal_client != client:
            raise Fault(718)
        if self.config["permanent_only"] and lease:
            raise Fault(725)
        held = self.mappings.get(_key(port, proto))
        if held and held["NewInternalClient"] != internal_client:
            raise Fault(718)
        # IGD v2: a lease of 0 means the maximum.
        lease = self.config["max_lease"] if lease == 0 or lease > self.config["max_lease"] else lease
        if self.config["permanent_only"]:
            lease = 0
        self.mappings[_key(port, proto)] = {
            "NewRemoteHost": "", "NewExternalPort": port, "NewProtocol": proto, "NewInternalPort": internal_port,
            "NewInternalClient": internal_client, "NewEnabled": 1 if args.get("NewEnabled", "1") in ("1", "true") else 0,
            "NewPortMappingDescription": args.get("NewPortMappingDescription", ""),
            "expires": (time.time() + lease) if lease else None, "created": time.time()}
        return []

    def _GetSpecificPortMappingEntry(self, args, client):
        entry = self.mappings.get(_key(_port(args.get("NewExternalPort")), _proto(args.get("NewProtocol"))))
        if entry is None:
            raise Fault(714)
        return [(k, entry[k] if k != "NewLeaseDuration" else self._remaining(entry)) for k in ARGS[3:]]

    def _GetGenericPortMappingEntry(self, args, client):
        try:
            index = int(args.get("NewPortMappingIndex", ""))
        except ValueError:
            raise Fault(402)
        ordered = self._ordered()
        if not 0 <= index < len(ordered):
            raise Fault(713)
        entry = ordered[index]
        return [(k, entry[k] if k != "NewLeaseDuration" else self._remaining(entry)) for k in ARGS]

    def _DeletePortMapping(self, args, client):
        key = _key(_port(args.get("NewExternalPort")), _proto(args.get("NewProtocol")))
        entry = self.mappings.get(key)
        if entry is None:
            raise Fault(714)
        if self.config["secure_mode"] and entry["NewInternalClient"] != client:
            raise Fault(606)
        del self.mappings[key]
        return []

    # -- helpers ---------------------------------------------------------------
    def _wan_reserved(self):
        return not ipaddress.ip_address(self.config["external_ip"]).is_global

    def _ordered(self):
        # Newest first, as miniupnpd lists them.
        return sorted(self.mappings.values(), key=lambda m: -m["created"])

    def _expire(self):
        now = time.time()
        for key in [k for k, m in self.mappings.items() if m["expires"] and m["expires"] <= now]:
            del self.mappings[key]

    @staticmethod
    def _remaining(entry):
        return max(0, int(entry["expires"] - time.time())) if entry["expires"] else 0


def _port(value):
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise Fault(402)
    if not 0 < port < 65536:
        raise Fault(716 if port == 0 else 402)
    return port


def _proto(value):
    proto = (value or "").upper()
    if proto not in ("TCP", "UDP"):
        raise Fault(402)
    return proto


def _parse_args(body, action):
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        raise Fault(402)
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] == action:
            return {child.tag.rsplit("}", 1)[-1]: (child.text or "") for child in element}
    raise Fault(401)


def _envelope(inner):
    return ('<?xml version="1.0"?>\n<s:Envelope xmlns:s="%s" s:encodingStyle="http://schemas.xmlsoap.org/soap/'
            'encoding/"><s:Body>%s</s:Body></s:Envelope>\r\n' % (SOAP_NS, inner)).encode()


def _ok(action, out):
    args = "".join("<%s>%s</%s>" % (k, escape(str(v)), k) for k, v in out)
    response = Response(body=_envelope('<u:%sResponse xmlns:u="%s">%s</u:%sResponse>' % (action, SERVICE, args, action)),
                        content_type='text/xml; charset="utf-8"')
    response.outcome = "ok"
    return response


def _fault(code):
    detail = ('<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail>'
              '<UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>%d</errorCode>'
              '<errorDescription>%s</errorDescription></UPnPError></detail></s:Fault>'
              % (code, ERROR_TEXT.get(code, "Error")))
    response = Response(500, _envelope(detail), 'text/xml; charset="utf-8"')
    response.outcome = code
    return response
