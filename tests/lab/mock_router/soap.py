"""SOAP as miniupnpd 2.3.1 speaks it: SOAPAction parsing, argument reading, responses and UPnP faults.

What the wire looks like was captured from Debian's miniupnpd 2.3.1 (docs/lab-fidelity.md, ## Router):
a success carries an `<?xml version="1.0"?>` prolog and answers in the namespace the SOAPAction named,
a fault has no prolog and is HTTP 500 with s:Client / UPnPError / errorCode / errorDescription.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from tests.lab.common.errors import MockError

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
ENVELOPE = ('<s:Envelope xmlns:s="%s" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/">'
            '<s:Body>%%s</s:Body></s:Envelope>' % SOAP_NS)
# errorDescription strings as miniupnpd sends them (its spelling, e.g. "permited").
ERROR_TEXT = {401: "Invalid Action", 402: "Invalid Args", 501: "ActionFailed", 606: "Action not authorized",
              713: "SpecifiedArrayIndexInvalid", 714: "NoSuchEntryInArray", 716: "Wildcard not permited in ExtPort",
              718: "ConflictInMappingEntry", 725: "OnlyPermanentLeasesSupported", 728: "NoPortMapsAvailable",
              730: "PortMappingNotFound", 731: "ReadOnly", 733: "InconsistentParameter"}


class Fault(MockError):
    """A UPnP error, answered as a SOAP fault with a UPnPError body."""


def split_soap_action(header):
    """(namespace, action) from `"urn:…:WANIPConnection:2#AddPortMapping"`; no '#' -> (None, None).

    miniupnpd takes whatever stands before '#' as the namespace of its answer and dispatches on the name
    after it alone: the service type is not checked (a :1 or even a foreign type is answered)."""
    value = header.strip()
    if value.startswith('"'):
        value = value[1:]
    namespace, separator, rest = value.partition("#")
    if not separator:
        return None, None
    return namespace, rest.split('"', 1)[0]


def read_args(body):
    """Every leaf element of the body by local name, as miniupnpd's name/value parser reads them; the
    element names of the envelope and of the action are not checked."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return {}
    return {element.tag.rsplit("}", 1)[-1]: (element.text or "") for element in root.iter() if len(element) == 0}


def body_xml(action, namespace, out):
    """The `<u:ActionResponse>` element; `out` is [(name, value)] or raw XML text already escaped."""
    if isinstance(out, str):
        inner = out
    else:
        inner = "".join("<%s>%s</%s>" % (k, escape(str(v)), k) for k, v in out)
    namespace = escape(namespace, {'"': "&quot;"})
    return '<u:%sResponse xmlns:u="%s">%s</u:%sResponse>' % (action, namespace, inner, action)


def ok_body(action, namespace, out):
    return ('<?xml version="1.0"?>\r\n' + ENVELOPE % body_xml(action, namespace, out) + "\r\n").encode()


def fault_body(code):
    detail = ('<s:Fault><faultcode>s:Client</faultcode><faultstring>UPnPError</faultstring><detail>'
              '<UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>%d</errorCode>'
              '<errorDescription>%s</errorDescription></UPnPError></detail></s:Fault>'
              % (code, ERROR_TEXT.get(code, "Error")))
    return (ENVELOPE % detail).encode()
