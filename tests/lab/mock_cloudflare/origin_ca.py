"""The Origin CA API (/certificates) and the lab's Origin CA, which signs real certificates from CSRs
with its own test root (its key kept in the mock's directory, so a restarted lab still verifies)."""

from __future__ import annotations

import datetime
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from tests.lab import pki
from tests.lab.mock_cloudflare.envelope import json_body, page
from tests.lab.mock_cloudflare.errors import ApiError
from tests.lab.mock_cloudflare.settings import now

VALIDITY_DAYS = (7, 30, 90, 365, 730, 1095, 5475)


def routes(app):
    c = Certificates(app)
    return [
        ("GET", r"/certificates", c.list_certificates, False),
        ("POST", r"/certificates", c.create_certificate, True),
        ("GET", r"/certificates/(?P<cert>[0-9]+)", c.get_certificate, False),
        ("DELETE", r"/certificates/(?P<cert>[0-9]+)", c.revoke_certificate, True),
    ]


class Certificates:
    """The Origin CA API over the account's certificates (signed by the lab's OriginCa)."""

    def __init__(self, app):
        self.app = app

    def list_certificates(self, request, **_):
        zone = request.query.get("zone_id")
        if not zone:
            raise ApiError(400, 1100, "zone_id is required")
        zone_name = self.app.zone(zone)["name"]
        certs = [c for c in self.app.data["certificates"].values() if not c.get("revoked_at")
                 and all(h.lstrip("*.") == zone_name or h.endswith("." + zone_name) for h in c["hostnames"])]
        return page(request, sorted(certs, key=lambda c: c["id"]), default=50, maximum=50)

    def create_certificate(self, request, **_):
        body = json_body(request)
        hostnames = body.get("hostnames") or []
        if not hostnames or not all(isinstance(h, str) for h in hostnames):
            raise ApiError(400, 1101, "hostnames are required")
        zone_names = [z["name"] for z in self.app.data["zones"].values()]
        for host in hostnames:
            bare = host[2:] if host.startswith("*.") else host
            if "*" in bare or not any(bare == z or bare.endswith("." + z) for z in zone_names):
                raise ApiError(400, 1102, "Hostname %s is not in a zone on this account" % host)
        validity = body.get("requested_validity", 5475)
        if validity not in VALIDITY_DAYS:
            raise ApiError(400, 1103, "requested_validity must be one of %s" % ", ".join(map(str, VALIDITY_DAYS)))
        request_type = body.get("request_type")
        if request_type not in ("origin-rsa", "origin-ecc"):
            raise ApiError(400, 1104, "request_type must be origin-rsa or origin-ecc")
        cert = self.app.origin_ca.sign(body.get("csr", ""), hostnames, validity, request_type)
        self.app.data["certificates"][cert["id"]] = cert
        return dict(cert), None

    def get_certificate(self, request, cert, **_):
        if cert not in self.app.data["certificates"]:
            raise ApiError(404, 1001, "Certificate not found")
        return dict(self.app.data["certificates"][cert]), None

    def revoke_certificate(self, request, cert, **_):
        entry = self.app.data["certificates"].get(cert)
        if entry is None or entry.get("revoked_at"):
            raise ApiError(404, 1001, "Certificate not found")
        entry["revoked_at"] = now()
        return {"id": cert, "revoked_at": entry["revoked_at"]}, None


class OriginCa:
    def __init__(self, directory):
        os.makedirs(directory, exist_ok=True)
        key_path = os.path.join(directory, "origin_ca_root.key")
        if os.path.exists(key_path):
            with open(key_path, "rb") as handle:
                self.key = serialization.load_pem_private_key(handle.read(), password=None)
        else:
            self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
        name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "homelab.nas lab"),
                          x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Lab Origin SSL Certificate Authority"),
                          x509.NameAttribute(NameOID.COMMON_NAME, "homelab.nas lab Origin CA root")])
        self.root = pki.issue(None, self.key, ca=True, days=7300, name=name)
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
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True))
        cert = pki.with_key_ids(cert, key, self.key.public_key(), ca=False).sign(self.key, hashes.SHA256())
        return {
            # The id is the certificate's serial in decimal, up to 48 digits for a 159-bit serial, like the API
            # docs' example id 328578533902268680212849205732770752308931942346.
            "id": str(serial),
            "certificate": cert.public_bytes(serialization.Encoding.PEM).decode(),
            "csr": csr_pem, "hostnames": list(hostnames), "request_type": request_type,
            "requested_validity": validity_days,
            "expires_on": cert.not_valid_after_utc.strftime("%Y-%m-%d %H:%M:%S +0000 UTC"),
        }
