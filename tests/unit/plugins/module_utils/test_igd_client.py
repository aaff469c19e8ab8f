"""UPnP IGD client: SSDP and SOAP parsing, error mapping, address classification, calls to the mock IGD."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.nas.plugins.module_utils import igd_client
from ansible_collections.homelab.nas.plugins.module_utils.igd_client import IgdClient, UpnpError

DEVICE = "urn:schemas-upnp-org:device-1-0"


def description(*services, url_base=None):
    items = "".join("<service><serviceType>%s</serviceType><controlURL>%s</controlURL></service>" % s
                    for s in services)
    base = "<URLBase>%s</URLBase>" % url_base if url_base else ""
    return ('<root xmlns="%s">%s<device><deviceList><device><serviceList>%s</serviceList></device></deviceList>'
            '</device></root>' % (DEVICE, base, items)).encode()


def test_search_message_is_an_ssdp_m_search():
    text = igd_client.search_message("urn:x", mx=2).decode()
    assert text.startswith("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n")
    assert 'MAN: "ssdp:discover"' in text and "ST: urn:x\r\n" in text and text.endswith("\r\n\r\n")


def test_ssdp_response_headers_are_parsed_case_insensitively():
    reply = (b"HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nst: urn:schemas-upnp-org:device:"
             b"InternetGatewayDevice:2\r\nLocation: http://192.168.77.1:5000/rootDesc.xml\r\n\r\n")
    headers = igd_client.parse_ssdp_response(reply)
    assert headers["LOCATION"] == "http://192.168.77.1:5000/rootDesc.xml"
    assert headers["ST"].endswith("InternetGatewayDevice:2")
    assert igd_client.parse_ssdp_response(b"NOTIFY * HTTP/1.1\r\n\r\n") is None


def test_description_prefers_wanipconnection_2_and_resolves_urls():
    xml = description(("urn:schemas-upnp-org:service:WANPPPConnection:1", "/ppp"),
                      ("urn:schemas-upnp-org:service:WANIPConnection:1", "/ip1"),
                      ("urn:schemas-upnp-org:service:WANIPConnection:2", "ctl/ip2"))
    kind, url = igd_client.parse_description(xml, "http://10.0.0.1:49000/desc/root.xml")
    assert kind.endswith("WANIPConnection:2") and url == "http://10.0.0.1:49000/desc/ctl/ip2"


def test_description_falls_back_to_ppp_and_honours_url_base():
    xml = description(("urn:schemas-upnp-org:service:WANPPPConnection:1", "/upnp/control/WANPPPConn1"),
                      url_base="http://192.168.178.1:49000/")
    kind, url = igd_client.parse_description(xml, "http://192.168.178.1:49000/igddesc.xml")
    assert kind.endswith("WANPPPConnection:1") and url == "http://192.168.178.1:49000/upnp/control/WANPPPConn1"


def test_description_without_wan_service_is_not_an_igd():
    with pytest.raises(UpnpError, match="not an Internet Gateway Device"):
        igd_client.parse_description(description(("urn:schemas-upnp-org:service:Layer3Forwarding:1", "/l3")), "u")
    with pytest.raises(UpnpError, match="not XML"):
        igd_client.parse_description(b"<html>", "u")


def test_soap_envelope_escapes_user_text():
    body = igd_client.soap_envelope("urn:s", "AddPortMapping", [("NewPortMappingDescription", "a<b>&c")]).decode()
    assert "<NewPortMappingDescription>a&lt;b&gt;&amp;c</NewPortMappingDescription>" in body
    assert '<u:AddPortMapping xmlns:u="urn:s">' in body


def test_soap_fault_and_response_parsing():
    fault = (b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><detail>'
             b'<UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>718</errorCode>'
             b'<errorDescription>ConflictInMappingEntry</errorDescription></UPnPError></detail></s:Fault>'
             b'</s:Body></s:Envelope>')
    assert igd_client.parse_soap_fault(fault) == (718, "ConflictInMappingEntry")
    assert igd_client.parse_soap_fault(b"garbage") == (None, None)
    ok = (b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:GetExternalIPAddressResponse '
          b'xmlns:u="urn:s"><NewExternalIPAddress>100.128.77.2</NewExternalIPAddress></u:GetExternalIPAddressResponse>'
          b'</s:Body></s:Envelope>')
    assert igd_client.parse_soap_response(ok, "GetExternalIPAddress") == {"NewExternalIPAddress": "100.128.77.2"}


@pytest.mark.parametrize("address,kind", [
    ("100.64.0.1", "cgnat"), ("100.127.255.254", "cgnat"), ("100.128.77.2", "public"), ("10.1.2.3", "private"),
    ("192.168.1.1", "private"), ("172.16.0.1", "private"), ("0.0.0.0", "unknown"), ("", "unknown"),
    ("198.51.100.7", "private"),
])
def test_address_kind(address, kind):
    assert igd_client.address_kind(address) == kind


def test_client_against_the_mock_igd(router_lab):
    client = IgdClient(router_lab.igd_url)
    assert client.service == "urn:schemas-upnp-org:service:WANIPConnection:2"
    assert client.router_host == "127.0.0.1"
    assert client.external_address() == "100.128.77.2"
    assert client.get_mapping(8443, "tcp") is None
    mapping = dict(external_port=8443, protocol="tcp", internal_port=443, internal_client="127.0.0.1",
                   description="x", lease_duration=0)
    client.add_mapping(mapping)
    client.add_mapping(dict(mapping, external_port=8444))
    held = client.get_mapping(8443, "tcp")
    assert held["internal_port"] == 443 and held["lease_duration"] > 600000
    assert sorted(m["external_port"] for m in client.list_mappings()) == [8443, 8444]
    client.delete_mapping(8443, "tcp")
    assert client.get_mapping(8443, "tcp") is None


def test_router_http_errors_are_reported(router_lab):
    client = IgdClient(router_lab.igd_url)
    router_lab.fault(http_error_next={"count": 1, "status": 502})
    with pytest.raises(UpnpError, match="answered HTTP 502"):
        client.external_address()
    with pytest.raises(UpnpError, match="cannot read the router's device description"):
        IgdClient(router_lab.igd_url.replace("rootDesc.xml", "missing.xml"))


@pytest.mark.parametrize("strict,outcome", [(False, "ok"), (True, 714)])
def test_deleting_a_missing_mapping_is_no_error(router_lab, strict, outcome):
    router_lab.configure(strict_spec=strict)  # miniupnpd answers success, the spec 714
    IgdClient(router_lab.igd_url).delete_mapping(7777, "tcp")
    assert [c["outcome"] for c in router_lab.calls(method="DeletePortMapping")] == [outcome]
