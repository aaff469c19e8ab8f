# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""Checks a certificate, its key and chain before anything is sent to DSM (cryptography)."""

from __future__ import annotations

import datetime
import os

from ansible_collections.homelab.nas.plugins.module_utils.errors import HomelabInputError

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised by ansible-test's import test
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = exc

MIN_RSA_BITS = 2048
EXPIRY_WARNING_DAYS = 30
PEM_MARKER = "-----BEGIN"
PRIVATE_KEY_MARKER = b"PRIVATE KEY-----"
# A certificate issued "now" by a CA whose clock runs ahead of the controller's is still accepted.
CLOCK_SKEW = datetime.timedelta(minutes=10)


class PemError(HomelabInputError):
    """Bad input, with a message that names the option and the fix."""


# -- private keys, shared by the certificate sources (Origin CA, ACME) and the bundle check ---------------------


def new_key(key_type):
    """A new private key: ECDSA P-256 for "ecdsa", else RSA 2048 (what DSM and Cloudflare both take)."""
    if key_type == "ecdsa":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def key_pem(key):
    """The key as unencrypted PKCS#8 PEM bytes."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_key(data):
    """A private key from PEM bytes, or None if `data` holds none (or an encrypted one)."""
    try:
        return serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        return None


def _spki(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def same_key(key, cert):
    """Whether `cert` was issued for the private `key` (False without a key)."""
    return key is not None and _spki(key.public_key()) == _spki(cert.public_key())


def read_pem_option(name, value):
    """An option given as PEM text or as a path to a PEM file -> bytes."""
    if value is None:
        return None
    if PEM_MARKER in value:
        return value.encode("utf-8")
    path = os.path.expanduser(value)
    if not os.path.isfile(path):
        raise PemError("%s: neither PEM text (no '%s' line) nor a readable file path" % (name, PEM_MARKER))
    with open(path, "rb") as handle:
        return handle.read()


def load_certificates(name, data):
    if PRIVATE_KEY_MARKER in data:
        # The key would travel (and be logged) as a certificate; ApiModule masks it in the output.
        raise PemError(
            "%s: holds a private key besides the certificate; give the key in private_key and only "
            "'-----BEGIN CERTIFICATE-----' blocks here" % name
        )
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        certs = []
    if not certs:
        raise PemError(
            "%s: no PEM certificate could be parsed; give the '-----BEGIN CERTIFICATE-----' text or a path to it" % name
        )
    return certs


def fingerprint(cert):
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def sans(cert):
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return [str(v) for v in ext.value.get_values_for_type(x509.DNSName)] + [
        str(v) for v in ext.value.get_values_for_type(x509.IPAddress)
    ]


def common_name(name):
    attrs = name.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return attrs[0].value if attrs else ""


def summary(leaf, chain):
    """What the diff and the result show: identity, never key material."""
    return {
        "fingerprint_sha256": fingerprint(leaf),
        "chain_fingerprints_sha256": [fingerprint(c) for c in chain],
        "subject": common_name(leaf.subject),
        "issuer": common_name(leaf.issuer),
        "sans": sans(leaf),
        "not_before": leaf.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "not_after": leaf.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


class CertificateBundle:
    """A validated leaf + key + chain, ready for DSM's import call."""

    def __init__(self, leaf, key_pem, chain, warnings):
        self.leaf = leaf
        self.key_pem = key_pem
        self.chain = chain
        self.warnings = warnings

    @property
    def cert_pem(self):
        return self.leaf.public_bytes(serialization.Encoding.PEM)

    @property
    def chain_pem(self):
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.chain)

    def summary(self):
        return summary(self.leaf, self.chain)


def validate_bundle(cert_data, key_data, chain_data=None, passphrase=None, now=None):
    """Parse and check everything; raise PemError naming the option, or return a bundle."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    warnings = []
    certs = load_certificates("certificate", cert_data)
    leaf = certs[0]
    # A full-chain file in `certificate` is accepted: the rest becomes the chain.
    chain = certs[1:] + (load_certificates("chain", chain_data) if chain_data else [])

    try:
        key = serialization.load_pem_private_key(key_data, password=passphrase.encode("utf-8") if passphrase else None)
    except TypeError:
        raise PemError("private_key: the key is encrypted; set private_key_passphrase")
    except ValueError:
        raise PemError("private_key: not a PEM private key, or private_key_passphrase is wrong")
    except Exception as exc:  # cryptography raises UnsupportedAlgorithm for exotic keys
        raise PemError("private_key: unsupported key (%s)" % exc)

    public = key.public_key()
    if isinstance(public, rsa.RSAPublicKey):
        if public.key_size < MIN_RSA_BITS:
            raise PemError(
                "private_key: RSA key of %d bits; DSM and browsers need at least %d bits, issue a "
                "new certificate with a 2048-bit or larger key" % (public.key_size, MIN_RSA_BITS)
            )
    elif isinstance(public, ec.EllipticCurvePublicKey):
        warnings.append(
            "certificate: ECDSA key (%s). DSM 7 accepts it, DSM 6 rejects ECDSA certificates; "
            "use RSA 2048 for DSM 6" % public.curve.name
        )
    else:
        raise PemError(
            "private_key: %s keys are not supported by DSM; use RSA (2048+) or ECDSA" % type(public).__name__
        )

    if not same_key(key, leaf):
        raise PemError(
            "private_key: does not match certificate (different public keys); pass the key the "
            "certificate was issued for"
        )

    if leaf.not_valid_after_utc <= now:
        raise PemError(
            "certificate: expired on %s; renew it before importing"
            % leaf.not_valid_after_utc.strftime("%Y-%m-%d %H:%M UTC")
        )
    if leaf.not_valid_before_utc > now + CLOCK_SKEW:
        raise PemError(
            "certificate: not valid before %s; DSM would serve a certificate that browsers and Cloudflare refuse "
            "until then (check the controller's clock, or import it later)"
            % leaf.not_valid_before_utc.strftime("%Y-%m-%d %H:%M UTC")
        )
    if leaf.not_valid_before_utc > now:
        warnings.append("certificate: not valid before %s" % leaf.not_valid_before_utc.isoformat())
    if leaf.not_valid_after_utc - now < datetime.timedelta(days=EXPIRY_WARNING_DAYS):
        warnings.append(
            "certificate: expires on %s, in less than %d days"
            % (leaf.not_valid_after_utc.strftime("%Y-%m-%d"), EXPIRY_WARNING_DAYS)
        )

    child = leaf
    for position, issuer in enumerate(chain, start=1):
        try:
            child.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature):
            raise PemError(
                "chain: certificate %d ('%s') did not issue '%s'; give the chain in order, from the "
                "certificate's issuer up to the root"
                % (position, common_name(issuer.subject), common_name(child.subject))
            )
        child = issuer

    # DSM refuses passphrase-protected RSA keys: send it decrypted (it travels over TLS).
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return CertificateBundle(leaf, key_pem, chain, warnings)
