"""Certificates made at test time: root CA -> intermediate -> leaf, plus deliberately bad ones.

  python -m tests.lab.pki DIR [--hostname example.test]
writes DIR/{root.pem,chain.pem,leaf.pem,leaf.key,leaf2.pem,leaf2.key} (keys mode 0600).
"""

from __future__ import annotations

import argparse
import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def rsa_key(bits=2048):
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def _general_name(value):
    try:
        return x509.IPAddress(ipaddress.ip_address(value))
    except ValueError:
        return x509.DNSName(value)


def with_key_ids(builder, public_key, issuer_public_key, ca):
    """The extensions strict X.509 verification wants (Python 3.13's default VERIFY_X509_STRICT, and
    OpenSSL's checks): key identifiers on every certificate, key usage on a CA."""
    builder = (builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public_key), critical=False))
    if ca:
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False, encipher_only=False,
            decipher_only=False), critical=True)
    return builder


def issue(subject_cn, key, issuer=None, issuer_key=None, ca=False, sans=None, days=90, not_before=None, name=None):
    """A certificate for `key`, signed by issuer/issuer_key (self-signed when issuer is None). `sans` may
    hold DNS names and IP addresses; `name` replaces the subject built from `subject_cn`."""
    name = name or x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)])
    start = not_before or (_now() - datetime.timedelta(days=1))
    signing_key = issuer_key or key
    builder = (x509.CertificateBuilder().subject_name(name)
               .issuer_name(issuer.subject if issuer else name).public_key(key.public_key())
               .serial_number(x509.random_serial_number()).not_valid_before(start)
               .not_valid_after(start + datetime.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    builder = with_key_ids(builder, key.public_key(), signing_key.public_key(), ca)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName([_general_name(s) for s in sans]),
                                        critical=False)
    return builder.sign(signing_key, hashes.SHA256())


def pem(obj):
    if isinstance(obj, x509.Certificate):
        return obj.public_bytes(serialization.Encoding.PEM)
    return obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


class TestPki:
    """A root, an intermediate, and leaves issued by it on demand (RSA 2048)."""

    def __init__(self):
        self.root_key, self.inter_key = rsa_key(), rsa_key()
        self.root = issue("homelab.nas test root", self.root_key, ca=True, days=3650)
        self.inter = issue("homelab.nas test intermediate", self.inter_key, self.root, self.root_key,
                           ca=True, days=1825)

    def leaf(self, hostname, key=None, **kwargs):
        key = key or rsa_key()
        cert = issue(hostname, key, self.inter, self.inter_key, sans=[hostname, "*." + hostname], **kwargs)
        return cert, key


def write(directory, hostname="example.test"):
    """leaf.pem/leaf.key and a renewal leaf2.pem/leaf2.key, both issued under chain.pem (then root.pem)."""
    os.makedirs(directory, exist_ok=True)
    pki = TestPki()
    leaf, key = pki.leaf(hostname)
    leaf2, key2 = pki.leaf(hostname)
    files = {"root.pem": pem(pki.root), "chain.pem": pem(pki.inter), "leaf.pem": pem(leaf),
             "leaf.key": pem(key), "leaf2.pem": pem(leaf2), "leaf2.key": pem(key2)}
    for name, data in files.items():
        path = os.path.join(directory, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if name.endswith(".key") else 0o644)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    return {name: os.path.join(directory, name) for name in files}


def main():
    parser = argparse.ArgumentParser(prog="python -m tests.lab.pki")
    parser.add_argument("dir")
    parser.add_argument("--hostname", default="example.test")
    args = parser.parse_args()
    write(args.dir, args.hostname)


if __name__ == "__main__":
    main()
