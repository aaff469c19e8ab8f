"""A UPnP IGD:2 router as Debian's miniupnpd 2.3.1 is one: description, SOAP control, stateful port mappings.

Routing as miniupnpd does it: GET serves the description, a GET on /ctl/* is 405, any other GET 404; a
POST is dispatched on the action named in its SOAPAction header alone (any control path, any service
type, the answer in the namespace the SOAPAction named); no SOAPAction is HTTP 400. Every answer carries
miniupnpd's `Server:` and `Ext:` headers. The port-mapping actions are in portmap.py;
docs/lab-fidelity.md (## Router) names the source of each behaviour.

Lab settings: external_ip (a private or CGNAT one is withheld: GetExternalIPAddress answers empty and
adding fails with 501), secure_mode (only the asking host may be the internal client), min_external_port
(a permission rule: lower external ports are refused with 606), permanent_only (725 for non-zero leases,
as some Netgear routers do), forced_lease (every mapping gets that lease whatever was asked, as a Technicolor
router gave 86400: miniupnp/miniupnp#398), strict_spec (the IGD spec's answer where miniupnpd's differs, e.g. 714 for
deleting a missing mapping).
"""

from __future__ import annotations

import ipaddress
import time

from tests.lab.common.app import MockApp
from tests.lab.common.http import Response
from tests.lab.common.state import JsonState
from tests.lab.mock_router import portmap
from tests.lab.mock_router.description import CONNECTION_DEVICE_UDN, WANIPC_SERVICE_ID, description
from tests.lab.mock_router.soap import Fault, fault_body, ok_body, read_args, split_soap_action

DEFAULT_CONFIG = {
    "external_ip": "100.128.77.2",
    "secure_mode": False,
    "min_external_port": 1,
    "permanent_only": False,
    "forced_lease": 0,
    "strict_spec": False,
}
FRIENDLY_NAME = "homelab.nas lab router"
# miniupnpd sends "<OS name>/<OS version> UPnP/1.1 MiniUPnPd/<version>", the OS part from uname.
SERVER = "Debian/6.1.0-lab UPnP/1.1 MiniUPnPd/2.3.1"
HEADERS = {"Ext": "", "Connection": "close"}
XML = 'text/xml; charset="utf-8"'
HTML_404 = (
    b"<HTML><HEAD><TITLE>404 Not Found</TITLE></HEAD><BODY><H1>Not Found</H1>The requested URL was not "
    b"found on this server.</BODY></HTML>\r\n"
)
HTML_405 = (
    b"<HTML><HEAD><TITLE>405 Method Not Allowed</TITLE></HEAD><BODY><H1>Method Not Allowed</H1>The HTTP "
    b"Method is not allowed on this resource.</BODY></HTML>\r\n"
)
# What miniupnpd reported for its veth WAN (10 Gbit/s, in a 32-bit field).
LINK = [
    ("NewWANAccessType", "Cable"),
    ("NewLayer1UpstreamMaxBitRate", 1410065408),
    ("NewLayer1DownstreamMaxBitRate", 1410065408),
    ("NewPhysicalLinkStatus", "Up"),
]
COUNTERS = ("NewTotalBytesSent", "NewTotalBytesReceived", "NewTotalPacketsSent", "NewTotalPacketsReceived")

clock = time.time  # tests may pin it; miniupnpd counts leases in whole seconds


def _initial():
    # mappings: oldest first, as miniupnpd adds its rules; counters: the mock's own SOAP traffic
    return {"mappings": [], "counters": dict.fromkeys(COUNTERS, 0)}


class MockIgd(MockApp):
    default_config = DEFAULT_CONFIG
    server_header = SERVER

    def __init__(self, state_path=None):
        super().__init__(JsonState(_initial, state_path))
        self.lock = self.state.lock
        self.started = self.now()
        self.ports = portmap.PortMappings(self)
        # action -> (service, handler(args, client) -> [(name, value)] or raw XML)
        self.actions = {name: ("WANIPConnection", getattr(self.ports, name)) for name in portmap.ACTIONS}
        fixed = {
            "GetConnectionTypeInfo": [("NewConnectionType", "IP_Routed"), ("NewPossibleConnectionTypes", "IP_Routed")],
            "GetNATRSIPStatus": [("NewRSIPAvailable", 0), ("NewNATEnabled", 1)],
            "GetCommonLinkProperties": LINK,
            "GetDefaultConnectionService": [
                (
                    "NewDefaultConnectionService",
                    "%s:WANConnectionDevice:2,%s" % (CONNECTION_DEVICE_UDN, WANIPC_SERVICE_ID),
                )
            ],
        }
        self.actions.update(
            {
                "GetExternalIPAddress": ("WANIPConnection", self._external_ip),
                "GetStatusInfo": ("WANIPConnection", self._status),
                "GetConnectionTypeInfo": ("WANIPConnection", _answer(fixed["GetConnectionTypeInfo"])),
                "GetNATRSIPStatus": ("WANIPConnection", _answer(fixed["GetNATRSIPStatus"])),
                "SetConnectionType": ("WANIPConnection", _fails(731)),  # miniupnpd: always ReadOnly
                "RequestConnection": ("WANIPConnection", _fails(606)),
                "ForceTermination": ("WANIPConnection", _fails(606)),
                "GetCommonLinkProperties": ("WANCommonInterfaceConfig", _answer(LINK)),
                "GetDefaultConnectionService": ("Layer3Forwarding", _answer(fixed["GetDefaultConnectionService"])),
                "SetDefaultConnectionService": ("Layer3Forwarding", _set_default_service),
            }
        )
        for name in COUNTERS:
            self.actions["Get" + name[3:]] = ("WANCommonInterfaceConfig", self._counter(name))

    @property
    def mappings(self):
        return self.state.data["mappings"]

    def served(self):
        """(api, method) of everything the mock answers (docs/lab-fidelity.md has a row each)."""
        return sorted(
            [("description", "GET /rootDesc.xml")] + [(entry[0], action) for action, entry in self.actions.items()]
        )

    # -- lab hooks -----------------------------------------------------------
    def lab_state(self):
        with self.lock:
            self._expire()
            # traffic counters are left out: reading the router is no change of its state
            return {
                "config": dict(self.config),
                "mappings": [
                    {
                        "NewRemoteHost": "",
                        "NewExternalPort": e["port"],
                        "NewProtocol": e["proto"],
                        "NewInternalPort": e["iport"],
                        "NewInternalClient": e["client"],
                        "NewEnabled": e["enabled"],
                        "NewPortMappingDescription": e["desc"],
                        "NewLeaseDuration": self.ports.remaining(e),
                    }
                    for e in self.mappings[::-1]
                ],
            }

    def fault_response(self, fault):
        return _fault(int(fault.get("code", 501)))

    def describe_call(self, request):
        if request.verb == "POST":
            namespace, action = split_soap_action(request.headers.get("SOAPAction") or "")
            if action in self.actions:
                return self.actions[action][0], action, {}
            parts = (namespace or "").split(":")
            return (parts[-2] if len(parts) >= 2 else "unknown"), action or "", {}
        return "description", "%s %s" % (request.verb, request.path), {}

    # -- HTTP ----------------------------------------------------------------
    def handle(self, request):
        if request.verb == "GET":
            if request.path.lower() == "/rootdesc.xml":
                host = (request.headers.get("Host") or "127.0.0.1").rsplit(":", 1)[0]
                return _response(200, description(FRIENDLY_NAME, host), XML)
            if request.path.startswith("/ctl/"):
                return _response(405, HTML_405, "text/html", Allow="POST")
            return _response(404, HTML_404, "text/html")
        if request.verb != "POST":
            return _response(501, b"", "text/html")
        if request.headers.get("SOAPAction") is None:
            return _response(400, b"<html><body>Bad request</body></html>", "text/html")
        namespace, action = split_soap_action(request.headers["SOAPAction"])
        with self.lock:
            try:
                if action not in self.actions:
                    raise Fault(401)
                self._expire()
                out = self.actions[action][1](read_args(request.raw_body), request.client)
            except Fault as exc:
                response = _fault(exc.code)
            else:
                response = _response(200, ok_body(action, namespace, out), XML)
                response.outcome = "ok"
            counters = self.state.data["counters"]
            counters["NewTotalPacketsReceived"] += 1
            counters["NewTotalBytesReceived"] += len(request.raw_body)
            counters["NewTotalPacketsSent"] += 1
            counters["NewTotalBytesSent"] += len(response.body)
            self.state.save()
        return response

    # -- helpers ---------------------------------------------------------------
    @staticmethod
    def now():
        return int(clock())

    def wan_reserved(self):
        return not ipaddress.ip_address(self.config["external_ip"]).is_global

    def _expire(self):
        now = self.now()
        self.mappings[:] = [e for e in self.mappings if e["expires"] is None or e["expires"] > now]

    def _external_ip(self, args, client):
        return [("NewExternalIPAddress", "" if self.wan_reserved() else self.config["external_ip"])]

    def _status(self, args, client):
        # miniupnpd (system_uptime=no) reports its own uptime
        return [
            ("NewConnectionStatus", "Connected"),
            ("NewLastConnectionError", "ERROR_NONE"),
            ("NewUptime", self.now() - self.started),
        ]

    def _counter(self, name):
        return lambda args, client: [(name, self.state.data["counters"][name])]


def _answer(out):
    return lambda args, client: out


def _fails(code):
    def handler(args, client):
        raise Fault(code)

    return handler


def _set_default_service(args, client):
    if args.get("NewDefaultConnectionService") is None:
        raise Fault(402)
    return []  # miniupnpd accepts it and changes nothing


def _response(status, body, content_type, **extra):
    return Response(status, body, content_type, headers=dict(HEADERS, **extra))


def _fault(code):
    response = _response(500, fault_body(code), XML)
    response.outcome = code
    return response
