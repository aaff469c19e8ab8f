# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""Input checks and normalisers shared by the modules, the plan and the nginx patch. Each error names the field
and the fix.

The grammar of every value that reaches DSM's nginx, a shell script or Cloudflare lives here (hostnames,
DNS record names, networks, HTTP header names and values), and so does the one way names are compared
(`name_key`: case-insensitive, a trailing dot ignored, as DNS, DSM and nginx compare them). Networks that
would widen trust are bounded (`trusted_network`): nothing wider than /8 (IPv4) or /16 (IPv6) unless it is
private address space.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.homelab.nas.plugins.module_utils.errors import HomelabInputError

try:
    import netaddr

    HAS_NETADDR = True
    NETADDR_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised by ansible-test's import test
    HAS_NETADDR = False
    NETADDR_IMPORT_ERROR = exc

LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)\Z")
# A DNS record's label: a hostname label, or one with underscores (_acme-challenge, _dmarc).
RECORD_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)\Z")
# What a hostname or DNS name may be written with at all: ASCII letters, digits, '.', '-', '_' and '*'
# (no space, quote, control character or anything a shell or nginx reads as syntax).
NAME_CHARS = re.compile(r"[A-Za-z0-9._*-]+")
# RFC 9110 5.6.2: a header name is a token of tchar.
TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# A header value DSM writes into its nginx unquoted (proxy_set_header <name> <value>;): visible ASCII, and none
# of what nginx reads as syntax there (';' ends the directive, braces open or close a block, '#' starts a
# comment, a backslash escapes the next character, quotes open a string, a space starts another argument).
HEADER_VALUE = re.compile(r"""[^\x00-\x20\x7f-\U0010ffff;{}#\\'"]+""")
# DSM's adapter names (SYNO.Core.Network.Ethernet / Interface list; ovs_* with Open vSwitch, pppoe for PPPoE).
INTERFACE = re.compile(r"(eth\d+|bond\d+|ovs_eth\d+|ovs_bond\d+|pppoe\d*)")
# The widest network trusted (a proxy, set_real_ip_from, an allow list, a firewall source): wider is refused
# unless it is private address space. Cloudflare's own ranges are /12 (IPv4) and /29 (IPv6) at their widest.
WIDEST_PREFIX = {4: 8, 6: 16}
# DSM's week: its schedules number the days 0 (Sunday) to 6.
DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_DAY_NAMES = dict(
    [(short, short) for short in DAYS]
    + [(full, full[:3]) for full in ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")]
)


class InputError(HomelabInputError):
    """Bad input; the message names the field and says how to fix it."""


def weekday(value):
    """'mon' for mon, Monday, MON...; None for anything else (never a prefix match: 'monkey' is no day)."""
    return _DAY_NAMES.get(str(value).strip().lower())


def name_key(value):
    """A name as DNS, DSM and nginx compare it: lower case, surrounding spaces and one trailing dot dropped
    (RFC 4343; nginx's server_name and DSM's reverse proxy hostnames are case-insensitive)."""
    text = str(value or "").strip().lower()
    return text[:-1] if text.endswith(".") else text


def _punycode_hint(text):
    try:
        return " (in punycode: %s)" % text.encode("idna").decode("ascii")
    except (UnicodeError, ValueError):
        return ""


def _name_chars(field, value, what):
    """The raw text of a name: a string of ASCII letters, digits, '.', '-', '_' and '*' only."""
    text = value.strip(" ") if isinstance(value, str) else ""
    if not NAME_CHARS.fullmatch(text):
        hint = ""
        if isinstance(value, str) and value.strip() and not value.isascii():
            hint = "; write an internationalised name in punycode%s" % _punycode_hint(value.strip())
        raise InputError(
            "%s: %r is not a valid %s: only ASCII letters, digits, '.' and '-' may appear (no space, quote, "
            "control character or other symbol)%s" % (field, value, what, hint)
        )
    return text


def hostname(field, value, wildcard=False):
    """An RFC 1123 hostname, lower-cased, no trailing dot; `*.` as the whole first label only where allowed."""
    text = _name_chars(field, value, "hostname") if isinstance(value, str) else str(value or "")
    name = name_key(text)
    labels = name.split(".")
    if wildcard and labels[0] == "*" and len(labels) > 2:
        labels = labels[1:]
    if not name or len(name) > 253 or not all(LABEL.match(label) for label in labels):
        hint = " (a wildcard is only accepted as '*.' before at least two labels)" if "*" in name else ""
        raise InputError(
            "%s: '%s' is not a valid hostname%s; use letters, digits and hyphens in labels of at most "
            "63 characters, for example photos.example.com" % (field, value, hint)
        )
    return name


def port(field, value, hint=""):
    """A TCP/UDP port, 1-65535: the one check of a port's range (modules, wrappers, the plan). `hint` follows the
    fix in the message (the usual ports, for example)."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if not 1 <= number <= 65535 or isinstance(value, bool):
        raise InputError("%s: %s is not a port; use 1-65535%s" % (field, value, hint))
    return number


def source(field, value):
    """Firewall source -> (DSM source group, normalised text). A CIDR with host bits set is an error."""
    text = str(value or "").strip()
    if text.lower() in ("all", "any", "*", ""):
        return "all", ""
    try:
        if "-" in text:
            first, last = (part.strip() for part in text.split("-", 1))
            span = netaddr.IPRange(first, last)
            if span.size > 2 ** ((32 if span.version == 4 else 128) - WIDEST_PREFIX[span.version]):
                raise InputError(
                    "%s: '%s' spans more addresses than a /%d; write 'all' if every address is meant, or list "
                    "the networks themselves" % (field, text, WIDEST_PREFIX[span.version])
                )
            return "range", "%s-%s" % (span[0], span[-1])
        if "/" in text:
            network = netaddr.IPNetwork(text)
            if network.ip != network.network:
                raise InputError(
                    "%s: '%s' has host bits set; did you mean %s? (it is reported, not changed, "
                    "because the two mean different things)" % (field, text, network.cidr)
                )
            if network.size == 1:  # a /32 or /128 is the same single address
                return "ip", str(network.ip)
            _source_bound(field, text, ipaddress.ip_network(str(network.cidr)))
            return "subnet", str(network.cidr)
        return "ip", str(netaddr.IPAddress(text))
    except InputError:
        raise
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise InputError(
            "%s: '%s' is not an address, a CIDR network (192.168.1.0/24) or a range "
            "(192.168.1.10-192.168.1.20); use one of those, or 'all'" % (field, text)
        )


def _source_bound(field, text, network):
    if too_wide(network):
        raise InputError(
            "%s: '%s' is wider than /%d; write 'all' if every address is meant, or list the networks themselves"
            % (field, text, WIDEST_PREFIX[network.version])
        )


def source_contains(group, text, address):
    """Whether a normalised firewall source covers `address`."""
    if group == "all":
        return True
    ip = netaddr.IPAddress(address)
    if group == "ip":
        return ip == netaddr.IPAddress(text)
    if group == "subnet":
        return ip in netaddr.IPNetwork(text)
    first, last = text.split("-")
    return ip in netaddr.IPRange(first, last)


def cidr(field, value):
    """A trusted-proxy style network: IPv4 or IPv6 CIDR (a bare address is a /32 or /128)."""
    text = str(value or "").strip()
    try:
        network = netaddr.IPNetwork(text)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise InputError(
            "%s: '%s' is not an IP network; give CIDRs such as 173.245.48.0/20 or 2400:cb00::/32" % (field, text)
        )
    if network.ip != network.network:
        raise InputError("%s: '%s' has host bits set; did you mean %s?" % (field, text, network.cidr))
    return str(network.cidr)


def record_name(field, value, zone):
    """A DNS record name in `zone`, fully qualified and lower-cased. '@' (or the zone) is the apex; a single
    label is relative to the zone; a name with a dot is read as fully qualified and must end in the zone (never
    silently made `name.other.test.zone`). A trailing dot is ignored, as everywhere names are compared. Labels
    may hold '_'; a leading '*' label is a wildcard record."""
    zone_name = hostname("zone", zone)
    text = str(value).strip(" ") if isinstance(value, str) else ""
    if text == "@":
        return zone_name
    text = _name_chars(field, value, "DNS record name")
    name = name_key(text)
    if "." not in name:
        name = "%s.%s" % (name, zone_name)
    elif name != zone_name and not name.endswith("." + zone_name):
        raise InputError(
            "%s: '%s' is not in zone %s (a name with a dot is read as fully qualified); give a name ending in "
            ".%s, or one label relative to the zone" % (field, value, zone_name, zone_name)
        )
    labels = name.split(".")
    if labels[0] == "*":
        labels = labels[1:]
    if len(name) > 253 or not all(RECORD_LABEL.match(label) for label in labels):
        raise InputError(
            "%s: '%s' is not a valid DNS name; use letters, digits, hyphens and underscores in labels of at most "
            "63 characters (a leading '*.' for a wildcard)" % (field, value)
        )
    return name


def dns_name(field, value):
    """Any DNS name (a CNAME's target): labels of letters, digits, '-' and '_', lower-cased, no trailing dot."""
    name = name_key(_name_chars(field, value, "DNS name"))
    if not name or len(name) > 253 or not all(RECORD_LABEL.match(label) for label in name.split(".")):
        raise InputError(
            "%s: '%s' is not a valid DNS name; use letters, digits, hyphens and underscores in labels of at most "
            "63 characters, for example nas.example.net" % (field, value)
        )
    return name


def header_name(field, value):
    """An HTTP header name: an RFC 9110 token."""
    if not isinstance(value, str) or not TOKEN.fullmatch(value):
        raise InputError(
            "%s: %r is not an HTTP header name; use letters, digits and - (an RFC 9110 token, for example "
            "X-Forwarded-Host), with no space, colon or control character" % (field, value)
        )
    return value


def header_value(field, value):
    """A header value DSM writes into nginx: visible ASCII without nginx syntax (see HEADER_VALUE)."""
    if not isinstance(value, str) or not HEADER_VALUE.fullmatch(value):
        raise InputError(
            "%s: %r cannot go into DSM's nginx configuration; give one word of visible ASCII without a space, "
            "control character, ';', '{', '}', '#', quote or backslash (nginx variables such as $host are fine)"
            % (field, value)
        )
    return value


def too_wide(network):
    """Whether an ipaddress network is wider than WIDEST_PREFIX and not private address space."""
    return network.prefixlen < WIDEST_PREFIX[network.version] and not (network.is_private and network.prefixlen)


def trusted_network(field, value):
    """A network that is trusted (a proxy, set_real_ip_from, an allow list): a CIDR, re-rendered canonically,
    no wider than WIDEST_PREFIX unless private. Refuses 0.0.0.0/0, ::/0 and the like."""
    text = cidr(field, value) if HAS_NETADDR else _cidr_stdlib(field, value)
    network = ipaddress.ip_network(text)  # the check in the standard library's terms, the text as cidr() gives it
    if too_wide(network):
        raise InputError(
            "%s: %s is wider than /%d and would trust a large part of the internet; list the networks "
            "themselves (Cloudflare's are /%d and narrower)"
            % (field, network, WIDEST_PREFIX[network.version], 12 if network.version == 4 else 29)
        )
    return text


def _cidr_stdlib(field, value):
    text = str(value or "").strip()
    try:
        return str(ipaddress.ip_network(text, strict=True))
    except ValueError as exc:
        if "host bits" in str(exc):
            raise InputError(
                "%s: '%s' has host bits set; did you mean %s?" % (field, text, ipaddress.ip_network(text, strict=False))
            )
        raise InputError(
            "%s: '%s' is not an IP network; give CIDRs such as 173.245.48.0/20 or 2400:cb00::/32" % (field, text)
        )


def lan_address(field, value):
    """An IPv4 address on the LAN (private address space: RFC 1918, loopback, link-local); a public or
    carrier-grade NAT address is refused."""
    text = str(value or "").strip()
    try:
        address = ipaddress.IPv4Address(text)
    except ValueError:
        raise InputError(
            "%s: '%s' is not an IPv4 address (UPnP IGD forwards IPv4 only); give the NAS's LAN address, for "
            "example 192.168.1.10" % (field, value)
        )
    if not address.is_private or address.is_unspecified or address.is_multicast:
        raise InputError(
            "%s: %s is not a LAN address, and a forward must go to a host on the router's LAN; give the NAS's "
            "private address, for example 192.168.1.10" % (field, address)
        )
    return str(address)


def interface(field, value, allow_global=False):
    """A DSM network interface name (eth0, bond0, ovs_eth0, pppoe...); `global` (All interfaces) where allowed."""
    text = str(value or "").strip()
    if (allow_global and text == "global") or INTERFACE.fullmatch(text):
        return text
    raise InputError(
        "%s: '%s' is not an interface name DSM uses; use eth0, eth1, bond0, ovs_eth0 or pppoe (Control Panel > "
        "Network > Network Interface)%s" % (field, value, ", or global for All interfaces" if allow_global else "")
    )
