"""The lab's certificates pass strict X.509 verification, which Python 3.13 turns on by default
(VERIFY_X509_STRICT: key identifiers, key usage on CAs); set here explicitly so any Python checks it."""

from __future__ import annotations

import socket
import ssl

from tests.lab import pki


def _strict_handshake(host, port, ca_path):
    context = ssl.create_default_context(cafile=ca_path)
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    with socket.create_connection((host, port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            return tls.version()


def test_mock_listeners_verify_strictly(dsm_lab, cloudflare_lab):
    assert _strict_handshake("127.0.0.1", dsm_lab.https_port, dsm_lab.ca_path)
    assert _strict_handshake("127.0.0.1", cloudflare_lab.info["port"], cloudflare_lab.ca_path)


def test_test_pki_chain_verifies_strictly():
    from cryptography import x509
    from cryptography.x509.verification import PolicyBuilder, Store

    test_pki = pki.TestPki()
    leaf, _key = test_pki.leaf("example.test")
    verifier = PolicyBuilder().store(Store([test_pki.root])).build_server_verifier(x509.DNSName("example.test"))
    chain = verifier.verify(leaf, [test_pki.inter])
    assert chain[-1] == test_pki.root
