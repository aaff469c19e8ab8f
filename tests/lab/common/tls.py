"""A throwaway CA and a loopback server certificate for the lab's HTTPS listeners."""

from __future__ import annotations

import os

from tests.lab import pki


def _write(path, data, mode=0o600):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def ensure_server_tls(directory, label):
    """Create (once) ca.pem and server cert/key for 127.0.0.1, ::1 and localhost; return paths."""
    ca_path = os.path.join(directory, "ca.pem")
    cert_path = os.path.join(directory, "server.pem")
    key_path = os.path.join(directory, "server.key")
    if all(os.path.exists(p) for p in (ca_path, cert_path, key_path)):
        return ca_path, cert_path, key_path
    ca_key, key = pki.rsa_key(), pki.rsa_key()
    ca = pki.issue("homelab.nas lab CA (%s)" % label, ca_key, ca=True, days=30)
    cert = pki.issue("localhost", key, ca, ca_key, sans=["localhost", "127.0.0.1", "::1"], days=30)
    _write(ca_path, pki.pem(ca), 0o644)
    _write(cert_path, pki.pem(cert))
    _write(key_path, pki.pem(key))
    return ca_path, cert_path, key_path
