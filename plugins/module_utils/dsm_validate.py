# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""Input checks and normalisers shared by the DSM modules. Each error names the field and the fix."""

from __future__ import annotations

import re

from ansible_collections.homelab.nas.plugins.module_utils.errors import HomelabInputError

try:
    import netaddr

    HAS_NETADDR = True
    NETADDR_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised by ansible-test's import test
    HAS_NETADDR = False
    NETADDR_IMPORT_ERROR = exc

LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
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


def hostname(field, value, wildcard=False):
    """An RFC 1123 hostname, lower-cased; `*.` as the whole first label only where allowed."""
    name = str(value or "").strip().rstrip(".").lower()
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


def port(field, value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if not 1 <= number <= 65535 or isinstance(value, bool):
        raise InputError("%s: %s is not a port; use 1-65535" % (field, value))
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
            return "subnet", str(network.cidr)
        return "ip", str(netaddr.IPAddress(text))
    except InputError:
        raise
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise InputError(
            "%s: '%s' is not an address, a CIDR network (192.168.1.0/24) or a range "
            "(192.168.1.10-192.168.1.20); use one of those, or 'all'" % (field, text)
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
