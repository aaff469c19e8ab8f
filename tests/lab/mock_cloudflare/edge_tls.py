"""The edge's certificates and the TLS hello it reads before choosing how to answer.

- The edge certificate: a lab CA ("edge CA", standing in for the public CAs that sign Cloudflare's
  Universal SSL certificates) issues one certificate for every zone and its wildcard, as Universal SSL
  covers `example.com` and `*.example.com`.
- The origin-pull client certificate: a lab CA standing in for Cloudflare's shared origin-pull CA
  (`origin-pull.cloudflare.net`); its root is what the nginx patch role is given as the client CA.
Both are kept in the mock's directory so a restarted lab presents the same ones.
"""

from __future__ import annotations

import os
import socket
import struct
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from tests.lab import pki


def _write(path, data, mode=0o644):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def _load_or_make_ca(directory, name, label):
    """(certificate, key) of a lab CA kept as NAME.pem / NAME.key in directory."""
    cert_path, key_path = os.path.join(directory, name + ".pem"), os.path.join(directory, name + ".key")
    if os.path.exists(cert_path) and os.path.exists(key_path):
        with open(cert_path, "rb") as handle:
            cert = x509.load_pem_x509_certificate(handle.read())
        with open(key_path, "rb") as handle:
            key = serialization.load_pem_private_key(handle.read(), password=None)
        return cert, key
    key = pki.rsa_key()
    cert = pki.issue(label, key, ca=True, days=3650)
    _write(key_path, pki.pem(key), 0o600)
    _write(cert_path, pki.pem(cert))
    return cert, key


class EdgeCertificates:
    """Paths of everything the edge presents: its server certificate and its origin-pull client certificate."""

    def __init__(self, directory, zone_names):
        os.makedirs(directory, exist_ok=True)
        ca, ca_key = _load_or_make_ca(directory, "edge_ca", "homelab.nas lab edge CA")
        self.ca_path = os.path.join(directory, "edge_ca.pem")
        # The zones can change between starts (tests add none today), so the leaf is issued at every start. ECDSA
        # P-256, as Universal SSL's primary certificate (the only one on the Free plan; paid plans add RSA for
        # clients without ECC), which is also what every TLS client here negotiates.
        key = pki.ec_key()
        sans = [n for zone in sorted(zone_names) for n in (zone, "*." + zone)]
        leaf = pki.issue(sans[0] if sans else "edge.invalid", key, ca, ca_key, sans=sans, days=90)
        self.cert_path, self.key_path = os.path.join(directory, "edge.pem"), os.path.join(directory, "edge.key")
        _write(self.cert_path, pki.pem(leaf))
        _write(self.key_path, pki.pem(key), 0o600)
        pull_ca, pull_key = _load_or_make_ca(directory, "origin_pull_ca", "origin-pull.cloudflare.net (lab)")
        self.origin_pull_ca_path = os.path.join(directory, "origin_pull_ca.pem")
        # What a play pins the origin-pull CA by (Cloudflare's is pinned in the nginx_patches role's defaults).
        self.origin_pull_ca_sha256 = pull_ca.fingerprint(hashes.SHA256()).hex(":").upper()
        self.client_cert_path = os.path.join(directory, "origin_pull_client.pem")
        self.client_key_path = os.path.join(directory, "origin_pull_client.key")
        if not os.path.exists(self.client_cert_path) or not os.path.exists(self.client_key_path):
            client_key = pki.rsa_key()
            client = pki.issue("origin-pull.cloudflare.net", client_key, pull_ca, pull_key, days=3650)
            _write(self.client_cert_path, pki.pem(client))
            _write(self.client_key_path, pki.pem(client_key), 0o600)


def peek_server_name(sock, timeout=5.0):
    """The SNI host name of the TLS ClientHello waiting on `sock` (read with MSG_PEEK, so the handshake
    still sees every byte), or None when the client sent none or this is not a TLS hello."""
    sock.settimeout(timeout)
    data = b""
    for _attempt in range(50):
        data = sock.recv(16384, socket.MSG_PEEK)
        if len(data) >= 5 and len(data) >= 5 + struct.unpack("!H", data[3:5])[0]:
            break
        if not data:
            return None
        time.sleep(0.02)  # the rest of the hello is still on its way (a peek returns at once)
    try:
        return _sni(data)
    except (IndexError, struct.error, UnicodeDecodeError):
        return None


def _sni(data):
    if data[0] != 0x16 or data[5] != 0x01:  # handshake record holding a ClientHello
        return None
    pos = 5 + 4 + 2 + 32  # record header, handshake header, client_version, random
    pos += 1 + data[pos]  # session id
    pos += 2 + struct.unpack("!H", data[pos : pos + 2])[0]  # cipher suites
    pos += 1 + data[pos]  # compression methods
    end = pos + 2 + struct.unpack("!H", data[pos : pos + 2])[0]
    pos += 2
    while pos + 4 <= end:
        kind, length = struct.unpack("!HH", data[pos : pos + 4])
        pos += 4
        if kind == 0:  # server_name: list length, then (type 0 = host_name, length, name)
            name_length = struct.unpack("!H", data[pos + 3 : pos + 5])[0]
            return data[pos + 5 : pos + 5 + name_length].decode("ascii").lower()
        pos += length
    return None
