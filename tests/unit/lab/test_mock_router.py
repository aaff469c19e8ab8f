"""The mock router on the wire: what Debian's miniupnpd 2.3.1 answered in the live capture (deviations U1-U6
of issue 9), and the spec's answers behind `strict_spec`."""

from __future__ import annotations

import http.client
import urllib.parse
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

import pytest

from tests.lab.mock_router import igd

V1 = "urn:schemas-upnp-org:service:WANIPConnection:1"
V2 = "urn:schemas-upnp-org:service:WANIPConnection:2"
CIF = "urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1"
DEVICE = "{urn:schemas-upnp-org:device-1-0}"
ERRORS = "{urn:schemas-upnp-org:control-1-0}"


class Router:
    def __init__(self, lab):
        split = urllib.parse.urlsplit(lab.igd_url)
        self.host, self.port = split.hostname, split.port

    def raw(self, verb, path, body=b"", headers=None):
        connection = http.client.HTTPConnection(self.host, self.port, timeout=5)
        connection.request(verb, path, body=body, headers=headers or {})
        reply = connection.getresponse()
        return reply.status, dict(reply.getheaders()), reply.read()

    def soap(self, action, *args, service=V2, path="/ctl/IPConn"):
        """(HTTP status, {out arg: text} or UPnP error code, raw body, headers)."""
        inner = "".join("<%s>%s</%s>" % (k, escape(str(v)), k) for k, v in args)
        body = ('<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
                's:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body><u:%s xmlns:u="%s">%s</u:%s>'
                '</s:Body></s:Envelope>' % (action, service, inner, action)).encode()
        status, headers, raw = self.raw("POST", path, body, {"Content-Type": 'text/xml; charset="utf-8"',
                                                             "SOAPAction": '"%s#%s"' % (service, action)})
        root = ET.fromstring(raw)
        if status != 200:
            return status, int(root.findtext(".//%serrorCode" % ERRORS)), raw, headers
        answer = root.find(".//{%s}%sResponse" % (service, action))
        return status, {child.tag: child.text or "" for child in answer}, raw, headers

    def add(self, port, lease=3600, client="127.0.0.1", iport=None, desc="d", proto="TCP", action="AddPortMapping"):
        return self.soap(action, ("NewRemoteHost", ""), ("NewExternalPort", port), ("NewProtocol", proto),
                         ("NewInternalPort", iport or port), ("NewInternalClient", client), ("NewEnabled", 1),
                         ("NewPortMappingDescription", desc), ("NewLeaseDuration", lease))

    def get(self, port, proto="TCP"):
        return self.soap("GetSpecificPortMappingEntry", ("NewRemoteHost", ""), ("NewExternalPort", port),
                         ("NewProtocol", proto))

    def listing(self, start=1, end=65535, proto="TCP", number=0):
        status, out = self.soap("GetListOfPortMappings", ("NewStartPort", start), ("NewEndPort", end),
                                ("NewProtocol", proto), ("NewManage", 1), ("NewNumberOfPorts", number))[:2]
        if status != 200:
            return out
        doc = ET.fromstring(out["NewPortListing"])  # an XML document carried as text
        ns = "{urn:schemas-upnp-org:gw:WANIPConnection}"
        return [(int(e.findtext(ns + "NewExternalPort")), e.findtext(ns + "NewDescription"),
                 int(e.findtext(ns + "NewLeaseTime"))) for e in doc.iter(ns + "PortMappingEntry")]


@pytest.fixture
def router(router_lab):
    return Router(router_lab)


@pytest.fixture
def frozen(monkeypatch):
    now = [1_800_000_000.9]  # late in a second: a float clock would read 3599 right after adding 3600
    monkeypatch.setattr(igd, "clock", lambda: now[0])
    return now


def test_description_lists_what_miniupnpd_lists(router):  # U2
    status, headers, body = router.raw("GET", "/rootDesc.xml")
    root = ET.fromstring(body)
    assert status == 200 and root.get("configId") == "1337"
    services = {s.findtext(DEVICE + "serviceType"): s.findtext(DEVICE + "controlURL")
                for s in root.iter(DEVICE + "service")}
    assert services == {
        "urn:schemas-upnp-org:service:Layer3Forwarding:1": "/ctl/L3F",
        "urn:schemas-upnp-org:service:DeviceProtection:1": "/ctl/DP",
        CIF: "/ctl/CmnIfCfg", V2: "/ctl/IPConn",
        "urn:schemas-upnp-org:service:WANIPv6FirewallControl:1": "/ctl/IP6FCtl"}
    device = root.find(DEVICE + "device")
    assert device.findtext(DEVICE + "manufacturer") == "Debian"
    assert device.findtext(DEVICE + "presentationURL") == "http://127.0.0.1/"


def test_headers_and_prolog_as_miniupnpd(router):  # U6
    status, _out, raw, headers = router.soap("GetExternalIPAddress")
    assert status == 200 and raw.startswith(b'<?xml version="1.0"?>')
    assert headers["Server"].endswith(" UPnP/1.1 MiniUPnPd/2.3.1") and headers["Ext"] == ""
    status, code, raw, headers = router.soap("NoSuchAction")
    assert (status, code) == (500, 401) and raw.startswith(b"<s:Envelope") and "Ext" in headers
    assert router.raw("GET", "/ctl/IPConn")[0] == 405
    assert router.raw("POST", "/ctl/IPConn", b"<x/>")[0] == 400  # no SOAPAction


def test_v1_soap_action_is_answered_in_the_v1_namespace(router):  # U3
    status, out, raw = router.soap("GetExternalIPAddress", service=V1)[:3]
    assert status == 200 and out == {"NewExternalIPAddress": "100.128.77.2"}
    assert ('xmlns:u="%s"' % V1).encode() in raw


def test_connection_type_and_common_interface_config(router):  # U2
    assert router.soap("GetConnectionTypeInfo")[1] == {"NewConnectionType": "IP_Routed",
                                                       "NewPossibleConnectionTypes": "IP_Routed"}
    status, out = router.soap("GetCommonLinkProperties", service=CIF, path="/ctl/CmnIfCfg")[:2]
    assert status == 200 and out["NewPhysicalLinkStatus"] == "Up" and out["NewWANAccessType"] == "Cable"
    first = int(router.soap("GetTotalPacketsReceived", service=CIF, path="/ctl/CmnIfCfg")[1]["NewTotalPacketsReceived"])
    second = int(router.soap("GetTotalPacketsReceived", service=CIF, path="/ctl/CmnIfCfg")[1]["NewTotalPacketsReceived"])
    assert second == first + 1


def test_lease_just_after_add_is_whole(router, frozen):  # U5
    router.add(15000, lease=3600)
    assert router.get(15000)[1]["NewLeaseDuration"] == "3600"
    router.add(15001, lease=0)
    assert router.get(15001)[1]["NewLeaseDuration"] == "604800"
    frozen[0] += 3600
    assert router.get(15000)[1] == 714  # expired


def test_get_list_of_port_mappings(router, frozen):  # U1
    assert router.listing() == []
    for port in (15002, 15000, 15001):
        router.add(port, desc="p%d<&>" % port)
    router.add(15003, proto="UDP")
    assert router.listing() == [(15001, "p15001<&>", 3600), (15000, "p15000<&>", 3600),
                                (15002, "p15002<&>", 3600)]  # newest first, as miniupnpd walks its rules
    assert [e[0] for e in router.listing(15000, 15001)] == [15001, 15000]
    assert len(router.listing(number=1)) == 1
    assert [e[0] for e in router.listing(proto="UDP")] == [15003]
    assert router.listing(2000, 1000) == 733


def test_add_any_port_mapping_reserves_a_free_port(router, router_lab):  # U1
    status, out = router.add(16000, action="AddAnyPortMapping")[:2]
    assert status == 200 and out == {"NewReservedPort": "16000"}
    router.add(16001, client="192.168.77.20")  # another host holds 16001
    assert router.add(16001, action="AddAnyPortMapping")[1] == {"NewReservedPort": "16002"}
    router_lab.configure(min_external_port=1024)
    assert router.add(443, iport=443, action="AddAnyPortMapping")[1] == {"NewReservedPort": "1024"}
    router_lab.configure(secure_mode=True)
    assert router.add(17000, client="192.168.77.20", action="AddAnyPortMapping")[1] == 606
    assert router.add(17000, client="192.168.77.20")[1] == 718  # AddPortMapping: 718 for the same refusal


def test_delete_port_mapping_range(router):  # U1
    rng = (("NewStartPort", 15000), ("NewEndPort", 15009), ("NewProtocol", "TCP"), ("NewManage", 1))
    assert router.soap("DeletePortMappingRange", *rng)[1] == 730
    router.add(15000)
    router.add(15005)
    router.add(15020)
    assert router.soap("DeletePortMappingRange", *rng)[0] == 200
    assert [e[0] for e in router.listing()] == [15020]
    assert router.soap("DeletePortMappingRange", *rng)[1] == 730


@pytest.mark.parametrize("strict,answer", [(False, 200), (True, 714)])
def test_delete_of_a_missing_mapping(router, router_lab, strict, answer):  # U4
    router_lab.configure(strict_spec=strict)
    status, out = router.soap("DeletePortMapping", ("NewRemoteHost", ""), ("NewExternalPort", 7777),
                              ("NewProtocol", "TCP"))[:2]
    assert (status if status == 200 else out) == answer


@pytest.mark.parametrize("strict,description", [(False, "first"), (True, "second")])
def test_readding_with_the_same_internal_port(router, router_lab, strict, description):
    # miniupnpd (nftables) renews the lease but keeps the description; the spec overwrites both
    router_lab.configure(strict_spec=strict)
    router.add(15010, desc="first", lease=3600)
    router.add(15010, desc="second", lease=100)
    assert router.get(15010)[1]["NewPortMappingDescription"] == description
    assert router.get(15010)[1]["NewLeaseDuration"] in ("99", "100")
    router.add(15010, desc="third", iport=999)  # a new internal port: a new rule, with everything new
    assert router.get(15010)[1]["NewPortMappingDescription"] == "third"
