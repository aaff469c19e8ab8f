"""The device description (GET /rootDesc.xml), shaped as Debian's miniupnpd 2.3.1 serves it.

Same device tree, services, control URLs, `configId` attribute, manufacturer fields and presentationURL
as the live capture (docs/lab-fidelity.md, ## Router); the UUIDs and friendly name are the lab's own.
The SCPD documents it names are not served (404): no client of the lab reads them.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

UUID = "6b1f3c10-8f3e-4d8e-9a55-1ab0c0ffee0%d"  # root, WANDevice, WANConnectionDevice: 2, 3, 4
CONNECTION_DEVICE_UDN = "uuid:" + UUID % 4
WANIPC_SERVICE_ID = "urn:upnp-org:serviceId:WANIPConn1"

# (serviceType, serviceId, SCPDURL, controlURL, eventSubURL) per device, as miniupnpd lists them.
ROOT_SERVICES = (
    ("urn:schemas-upnp-org:service:Layer3Forwarding:1", "urn:upnp-org:serviceId:L3Forwarding1", "/L3F.xml",
     "/ctl/L3F", "/evt/L3F"),
    ("urn:schemas-upnp-org:service:DeviceProtection:1", "urn:upnp-org:serviceId:DeviceProtection1", "/DP.xml",
     "/ctl/DP", "/evt/DP"),
)
WAN_SERVICES = (
    ("urn:schemas-upnp-org:service:WANCommonInterfaceConfig:1", "urn:upnp-org:serviceId:WANCommonIFC1",
     "/WANCfg.xml", "/ctl/CmnIfCfg", "/evt/CmnIfCfg"),
)
CONNECTION_SERVICES = (
    ("urn:schemas-upnp-org:service:WANIPConnection:2", WANIPC_SERVICE_ID, "/WANIPCn.xml", "/ctl/IPConn",
     "/evt/IPConn"),
    ("urn:schemas-upnp-org:service:WANIPv6FirewallControl:1", "urn:upnp-org:serviceId:WANIPv6Firewall1",
     "/WANIP6FC.xml", "/ctl/IP6FCtl", "/evt/IP6FCtl"),
)


def _services(services):
    return "<serviceList>%s</serviceList>" % "".join(
        "<service><serviceType>%s</serviceType><serviceId>%s</serviceId><SCPDURL>%s</SCPDURL>"
        "<controlURL>%s</controlURL><eventSubURL>%s</eventSubURL></service>" % s for s in services)


def _device(kind, name, manufacturer, url, description, model, number, udn, upc):
    return ("<deviceType>urn:schemas-upnp-org:device:%s</deviceType><friendlyName>%s</friendlyName>"
            "<manufacturer>%s</manufacturer><manufacturerURL>%s</manufacturerURL>"
            "<modelDescription>%s</modelDescription><modelName>%s</modelName><modelNumber>%s</modelNumber>"
            "<modelURL>%s</modelURL><serialNumber>00000000</serialNumber><UDN>%s</UDN>%s"
            % (kind, escape(name), manufacturer, url, description, model, number, url, udn,
               "<UPC>000000000000</UPC>" if upc else ""))


def description(friendly_name, presentation_host):
    """rootDesc.xml; presentationURL is http://<the address the client asked>/ as miniupnpd builds it
    from its listening address."""
    debian, miniupnp = "http://www.debian.org/", "http://miniupnp.free.fr/"
    connection = ("<device>%s%s</device>" % (
        _device("WANConnectionDevice:2", "WANConnectionDevice", "MiniUPnP", miniupnp, "MiniUPnP daemon",
                "MiniUPnPd", "20221221", CONNECTION_DEVICE_UDN, True), _services(CONNECTION_SERVICES)))
    wan = ("<device>%s%s<deviceList>%s</deviceList></device>" % (
        _device("WANDevice:2", "WANDevice", "MiniUPnP", miniupnp, "WAN Device", "WAN Device", "20221221",
                "uuid:" + UUID % 3, True), _services(WAN_SERVICES), connection))
    root = ("<device>%s%s<deviceList>%s</deviceList><presentationURL>http://%s/</presentationURL></device>" % (
        _device("InternetGatewayDevice:2", friendly_name, "Debian", debian, "Debian router", "Debian router", "1",
                "uuid:" + UUID % 2, False), _services(ROOT_SERVICES), wan, presentation_host))
    return ('<?xml version="1.0"?>\r\n<root xmlns="urn:schemas-upnp-org:device-1-0" configId="1337">'
            "<specVersion><major>1</major><minor>1</minor></specVersion>%s</root>\r\n" % root).encode()
