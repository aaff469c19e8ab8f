"""What each DNS record type takes, as Cloudflare's generated SDK types describe it (cloudflare-python
5.9 `types/dns/*_record_param.py`, the same OpenAPI spec as cloudflare-typescript's records.ts).

A, AAAA, CNAME, MX, NS, PTR, TXT and OPENPGPKEY carry `content`; CAA, CERT, DNSKEY, DS, HTTPS, LOC, NAPTR,
SMIMEA, SRV, SSHFP, SVCB, TLSA and URI carry a `data` object, from which the API formats `content`
("Formatted CAA content. See 'data' to set CAA properties."). MX and URI also need `priority`.
Only A, AAAA and CNAME can be proxied.
"""

from __future__ import annotations

import ipaddress
import re

from tests.lab.mock_cloudflare.errors import ApiError

CONTENT_TYPES = ("A", "AAAA", "CNAME", "MX", "NS", "OPENPGPKEY", "PTR", "TXT")
# data fields in presentation order (the order the formatted content lists them in).
DATA_FIELDS = {
    "CAA": ("flags", "tag", "value"),
    "CERT": ("type", "key_tag", "algorithm", "certificate"),
    "DNSKEY": ("flags", "protocol", "algorithm", "public_key"),
    "DS": ("key_tag", "algorithm", "digest_type", "digest"),
    "HTTPS": ("priority", "target", "value"),
    "LOC": ("lat_degrees", "lat_minutes", "lat_seconds", "lat_direction", "long_degrees", "long_minutes",
            "long_seconds", "long_direction", "altitude", "size", "precision_horz", "precision_vert"),
    "NAPTR": ("order", "preference", "flags", "service", "regex", "replacement"),
    "SMIMEA": ("usage", "selector", "matching_type", "certificate"),
    "SRV": ("priority", "weight", "port", "target"),
    "SSHFP": ("algorithm", "type", "fingerprint"),
    "SVCB": ("priority", "target", "value"),
    "TLSA": ("usage", "selector", "matching_type", "certificate"),
    "URI": ("weight", "target"),
}
TYPES = tuple(sorted(CONTENT_TYPES + tuple(DATA_FIELDS)))  # the 21 of RecordListParams.type
PROXIABLE = ("A", "AAAA", "CNAME")
NEEDS_PRIORITY = ("MX", "URI")
# Numeric data fields and their ranges (RFC wire sizes; the SDK types them as float).
RANGES = {"flags": 255, "key_tag": 65535, "algorithm": 255, "protocol": 255, "digest_type": 255,
          "priority": 65535, "weight": 65535, "port": 65535, "order": 65535, "preference": 65535,
          "usage": 255, "selector": 255, "matching_type": 255, "type": 65535}
CAA_TAGS = ("issue", "issuewild", "iodef")
HOSTNAME = re.compile(r"(?=.{1,253}\.?$)(\*\.)?([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.)*"
                      r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?")


def invalid(message, code=1004):
    """Cloudflare's DNS validation error: 1004 with the rule in its error_chain (external-dns#1945 shows
    9004 chained this way); a chain code other than 9004/9003 is the lab's choice (1004)."""
    return ApiError(400, 1004, "DNS Validation Error", [{"code": code, "message": message}])


def proxiable(kind, content):
    """A, AAAA and CNAME can be proxied, an address only if it is public (cloudflare/python-cloudflare#73:
    an A record of 192.168.1.1 comes back proxiable false)."""
    if kind in ("A", "AAAA"):
        return ipaddress.ip_address(content).is_global
    return kind in PROXIABLE


def number(kind, field, value, maximum):
    # lexicon sends data numbers as strings ("0"); JSON numbers arrive as int or float.
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise invalid("%s record: data.%s must be a number" % (kind, field))
    if number != int(number) or not 0 <= number <= maximum:
        raise invalid("%s record: data.%s must be an integer from 0 to %d" % (kind, field, maximum))
    return int(number)


def _hostname(kind, what, value):
    if not isinstance(value, str) or not HOSTNAME.fullmatch(value):
        raise invalid("%s record: %s '%s' is not a valid hostname" % (kind, what, value))
    return value.rstrip(".")


def check_content(kind, content, priority):
    """The stored content of a content-carrying record, or ApiError."""
    if not isinstance(content, str) or not content:
        raise invalid("%s record: content is required" % kind)
    if kind in ("A", "AAAA"):
        try:
            (ipaddress.IPv4Address if kind == "A" else ipaddress.IPv6Address)(content)
        except ValueError:
            # 9005 / 9006 as Cloudflare answers them today (timothymiller/cloudflare-ddns#230, wherelse#15).
            raise ApiError(400, 9005 if kind == "A" else 9006, "Content for %s record must be a valid IPv%s address."
                           % (kind, 4 if kind == "A" else 6))
        return content
    if kind in ("CNAME", "MX", "NS", "PTR"):
        content = _hostname(kind, "content", content)
    if kind in NEEDS_PRIORITY and priority is None:
        raise invalid("%s record: priority is required" % kind)
    return content


def check_data(kind, data):
    """(stored data, formatted content) of a data-carrying record, or ApiError."""
    fields = DATA_FIELDS[kind]
    if not isinstance(data, dict):
        raise invalid("%s record: data is required (%s)" % (kind, ", ".join(fields)))
    missing = [f for f in fields if data.get(f) is None]  # "" is a value (an empty NAPTR regex)
    if missing:
        raise invalid("%s record: data.%s is required" % (kind, ", data.".join(missing)))
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise invalid("%s record: unknown data field(s) %s" % (kind, ", ".join(unknown)))
    stored = {}
    for field in fields:
        value = data[field]
        if field in RANGES and not (kind == "NAPTR" and field == "flags"):  # NAPTR flags are letters
            value = number(kind, field, value, 65535 if (kind, field) == ("DNSKEY", "flags") else RANGES[field])
        stored[field] = value
    if kind == "CAA" and stored["tag"] not in CAA_TAGS:
        raise invalid("CAA record: data.tag must be one of %s" % ", ".join(CAA_TAGS))
    if kind == "SRV":
        stored["target"] = _hostname(kind, "data.target", stored["target"])
    return stored, format_content(kind, stored)


def format_content(kind, data):
    parts = []
    for field in DATA_FIELDS[kind]:
        value = data[field]
        quoted = (kind == "CAA" and field == "value") or (kind == "NAPTR" and field in ("flags", "service", "regex"))
        parts.append('"%s"' % value if quoted else str(value))
    return " ".join(parts)
