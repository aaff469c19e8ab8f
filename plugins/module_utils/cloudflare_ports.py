# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""The ports Cloudflare's proxy passes to an origin: the one list the modules and the roles share.

Source: Cloudflare, "Network ports" (developers.cloudflare.com/fundamentals/reference/network-ports/):
with the proxy on, only these ports reach the origin; any other port fails at the edge.
"""

from __future__ import annotations

HTTPS_PORTS = (443, 2053, 2083, 2087, 2096, 8443)
HTTP_PORTS = (80, 8080, 8880, 2052, 2082, 2086, 2095)
PROXIED_PORTS = frozenset(HTTPS_PORTS + HTTP_PORTS)


def describe_https_ports():
    """'443 (or 2053, 2083, ...)' for messages that name the fix."""
    return "%d (or %s)" % (HTTPS_PORTS[0], ", ".join(str(p) for p in HTTPS_PORTS[1:]))
