# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""Network helpers shared by modules of different APIs."""

from __future__ import annotations

import socket


def connection_source(host, port, timeout=10):
    """The source address of a TCP connection to (host, port), resolved and tried in getaddrinfo's order as
    urllib3 does, so of the address family the HTTP client's own connections use; falls back to the routing
    table's answer when no connection can be made."""
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            return sock.getsockname()[0].split("%", 1)[0]
    except OSError:
        return local_address_towards(host)


def local_address_towards(host, port=9):
    """The address this host uses to reach `host` (connecting a UDP socket sends nothing)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.connect((host, port))
        return sock.getsockname()[0]
    finally:
        sock.close()
