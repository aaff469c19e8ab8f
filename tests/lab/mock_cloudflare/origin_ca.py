"""The lab's Origin CA: signs real certificates from CSRs with its own test root."""

from __future__ import annotations

import datetime
import os
import secrets

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from tests.lab.mock_cloudflare.errors import ApiError


class OriginCa:
    def __init__(self, directory):
        os.makedirs(directory, exist_ok=True)
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = datetime.datetime.now(datetime.timezone.utc)
        name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "homelab.nas lab"),
                          x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Lab Origin SSL Certificate Authority"),
                          x509.NameAttribute(NameOID.COMMON_NAME, "homelab.nas lab Origin CA root")])
        self.root = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(self.key.public_key())
                     .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
                     .not_valid_after(now + datetime.timedelta(days=7300))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .sign(self.key, hashes.SHA256()))
        self.root_pem = self.root.public_bytes(serialization.Encoding.PEM)
        with open(os.path.join(directory, "origin_ca_root.pem"), "wb") as out:
            out.write(self.root_pem)

    def sign(self, csr_pem, hostnames, validity_days, request_type):
        try:
            csr = x509.load_pem_x509_csr(csr_pem.encode())
        except ValueError:
            raise ApiError(400, 1105, "Failed to decode CSR")
        if not csr.is_signature_valid:
            raise ApiError(400, 1105, "CSR signature is invalid")
        key = csr.public_key()
        if (request_type == "origin-rsa") != isinstance(key, rsa.RSAPublicKey) or \
                (request_type == "origin-ecc") != isinstance(key, ec.EllipticCurvePublicKey):
            raise ApiError(400, 1106, "The CSR key type does not match request_type %s" % request_type)
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        serial = x509.random_serial_number()
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "CloudFlare, Inc."),
                                         x509.NameAttribute(NameOID.COMMON_NAME, "CloudFlare Origin Certificate")]))
                .issuer_name(self.root.subject).public_key(key).serial_number(serial)
                .not_valid_before(now - datetime.timedelta(hours=1))
                .not_valid_after(now + datetime.timedelta(days=validity_days))
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hostnames]), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .sign(self.key, hashes.SHA256()))
        return {
            "id": str(serial)[:20] + secrets.choice("0123456789"),
            "certificate": cert.public_bytes(serialization.Encoding.PEM).decode(),
            "csr": csr_pem, "hostnames": list(hostnames), "request_type": request_type,
            "requested_validity": validity_days,
            "expires_on": cert.not_valid_after_utc.strftime("%Y-%m-%d %H:%M:%S +0000 UTC"),
        }
