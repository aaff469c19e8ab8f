"""A throwaway CA and a loopback server certificate for the lab's HTTPS listeners, and the contexts for
certificates a mock chooses per handshake."""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import ssl
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
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
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = ca_name or "homelab.nas lab CA (%s)" % label
    ca = (x509.CertificateBuilder().subject_name(_name(ca_name))
          .issuer_name(_name(ca_name)).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    names = [x509.DNSName(n) for n in dict.fromkeys([common_name, "localhost"])]
    san = x509.SubjectAlternativeName(names + [x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                               x509.IPAddress(ipaddress.ip_address("::1"))])
    cert = (x509.CertificateBuilder().subject_name(_name(common_name)).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(san, critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(ca_key, hashes.SHA256()))
    _write(ca_path, ca.public_bytes(serialization.Encoding.PEM))
    _write(cert_path, cert.public_bytes(serialization.Encoding.PEM))
    _write(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    os.chmod(ca_path, 0o644)
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
