"""A throwaway CA and a loopback server certificate for the lab's HTTPS listeners, and the contexts for
certificates a mock chooses per handshake."""

from __future__ import annotations

import hashlib
import os
import ssl
import threading

from tests.lab import pki


def _write(path, data, mode=0o600):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)


def ensure_server_tls(directory, label, ca_name=None, common_name="localhost"):
    """Create (once) ca.pem and server cert/key for 127.0.0.1, ::1 and localhost; return paths.
    `ca_name` and `common_name` let a mock name them as the system it stands in for does."""
    ca_path = os.path.join(directory, "ca.pem")
    cert_path = os.path.join(directory, "server.pem")
    key_path = os.path.join(directory, "server.key")
    if all(os.path.exists(p) for p in (ca_path, cert_path, key_path)):
        return ca_path, cert_path, key_path
    ca_key, key = pki.rsa_key(), pki.rsa_key()
    ca = pki.issue(ca_name or "homelab.nas lab CA (%s)" % label, ca_key, ca=True, days=30)
    sans = list(dict.fromkeys([common_name, "localhost", "127.0.0.1", "::1"]))
    cert = pki.issue(common_name, key, ca, ca_key, sans=sans, days=30)
    _write(ca_path, pki.pem(ca), 0o644)
    _write(cert_path, pki.pem(cert))
    _write(key_path, pki.pem(key))
    return ca_path, cert_path, key_path


class ContextCache:
    """Server-side TLS contexts for identities a mock chooses per handshake, one per fingerprint.

    `ssl` loads certificates only from files, so each identity is written once (mode 0600) under
    `directory`; an identity seen before reuses its context.
    """

    def __init__(self, directory):
        self.directory = directory
        self._lock = threading.Lock()
        self._contexts = {}

    def context_for(self, chain_pem, key_pem):
        """An SSLContext serving `chain_pem` (leaf first, then intermediates) with `key_pem`."""
        chain_pem = chain_pem.encode() if isinstance(chain_pem, str) else chain_pem
        key_pem = key_pem.encode() if isinstance(key_pem, str) else key_pem
        fingerprint = hashlib.sha256(chain_pem + b"\0" + key_pem).hexdigest()
        with self._lock:
            context = self._contexts.get(fingerprint)
            if context is None:
                os.makedirs(self.directory, mode=0o700, exist_ok=True)
                cert_path = os.path.join(self.directory, fingerprint[:16] + ".pem")
                key_path = os.path.join(self.directory, fingerprint[:16] + ".key")
                _write(cert_path, chain_pem)
                _write(key_path, key_pem)
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(cert_path, key_path)
                self._contexts[fingerprint] = context
            return context
