# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""ACME (RFC 8555) orders by DNS-01, on the `acme` library (the client library certbot uses), for acme_certificate.

The library does the protocol (JWS, nonces, polling); this file adds what the module needs around it: the
directory names, an account key kept in a file, a bounded `badNonce` retry, one error class, chain selection and
the certificate checks that decide whether a certificate on disk is reused.
"""

from __future__ import annotations

import datetime
import time

from ansible_collections.homelab.nas.plugins.module_utils import pem_checks
from ansible_collections.homelab.nas.plugins.module_utils.errors import HomelabError, HomelabInputError

try:
    import josepy
    from acme import challenges, client, crypto_util, errors as acme_errors, messages

    HAS_ACME = True
    ACME_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised by ansible-test's import test
    josepy = challenges = client = crypto_util = messages = acme_errors = None
    HAS_ACME = False
    ACME_IMPORT_ERROR = exc

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID
except ImportError:  # pragma: no cover - reported through pem_checks.HAS_CRYPTOGRAPHY
    pass

# Let's Encrypt's two directories (https://letsencrypt.org/docs/staging-environment/), by name.
DIRECTORIES = {
    "staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
    "production": "https://acme-v02.api.letsencrypt.org/directory",
}
# The library retries a request once after `badNonce` (acme.client.ClientNetwork.post); a CA rejecting nonces
# at random (pebble does 5 % by default, RFC 8555 6.5 allows it any time) may reject the retry too.
NONCE_ATTEMPTS = 5
CHALLENGE_PREFIX = "_acme-challenge."


class AcmeError(HomelabError):
    """A failed ACME exchange; `code` is the problem type's last part (`unauthorized`, `rateLimited`, ...)."""


def directory_url(value):
    """`staging`, `production` or any https:// directory URL."""
    url = DIRECTORIES.get(value, value)
    if not url.lower().startswith("https://"):
        raise HomelabInputError(
            "acme_directory: '%s' is neither 'staging', 'production' nor an https:// ACME directory URL" % value
        )
    return url


def problem_code(error):
    return (getattr(error, "code", None) or getattr(error, "typ", None) or "").rsplit(":", 1)[-1] or None


HINTS = {
    "rateLimited": "the CA's rate limit is reached; wait for the window its message names (use acme_directory: "
    "staging for tests), do not retry in a loop",
    "unauthorized": "the CA did not find the expected _acme-challenge TXT value: check that zone is the zone "
    "Cloudflare serves these names from, and raise propagation_seconds if its DNS is slow",
    "rejectedIdentifier": "the CA refuses to issue for one of the names (policy): check hostnames",
    "dns": "the CA could not look the _acme-challenge name up: check the zone's delegation to Cloudflare",
    "accountDoesNotExist": "the account of account_key_path is unknown to this CA",
}


def describe(exc):
    """A one-line message and the problem code for any failure of the acme library."""
    if isinstance(exc, acme_errors.ValidationError):
        parts, code = [], None
        for authzr in exc.failed_authzrs:
            for chall in authzr.body.challenges:
                if chall.error is not None:
                    code = code or problem_code(chall.error)
                    parts.append("%s: %s" % (authzr.body.identifier.value, chall.error))
        return "challenge failed: %s" % "; ".join(parts), code
    if isinstance(exc, acme_errors.TimeoutError):
        return "the CA did not finish the order within acme_timeout", "timeout"
    if isinstance(exc, messages.Error):
        return str(exc), problem_code(exc)
    return str(exc) or exc.__class__.__name__, None


def acme_error(exc, step):
    message, code = describe(exc)
    hint = HINTS.get(code)
    return AcmeError("%s: %s%s" % (step, message, " (%s)" % hint if hint else ""), code=code, api="acme")


if HAS_ACME:

    class PatientNetwork(client.ClientNetwork):
        """ClientNetwork that tries a request up to NONCE_ATTEMPTS times while the CA answers `badNonce`."""

        nonce_retries = 0

        def post(self, *args, **kwargs):
            for attempt in range(1, NONCE_ATTEMPTS + 1):
                try:
                    return self._post_once(*args, **kwargs)
                except messages.Error as exc:
                    if exc.code != "badNonce" or attempt == NONCE_ATTEMPTS:
                        raise
                    self.nonce_retries += 1
            raise AssertionError("unreachable")  # pragma: no cover


# -- keys and certificates -------------------------------------------------------------------------------------


def key_kind(key):
    if isinstance(key, rsa.RSAPrivateKey):
        return "rsa"
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1":
        return "ecdsa"
    return None


def account_jwk(key):
    """The JWK and signature algorithm of an account key (ECDSA P-256 or RSA)."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return josepy.JWKEC(key=key), josepy.ES256
    return josepy.JWKRSA(key=key), josepy.RS256


def load_chain(text):
    """The certificates of a PEM bundle, in order; [] for nothing parsable."""
    try:
        return x509.load_pem_x509_certificates(text.encode()) if text and "-----BEGIN" in text else []
    except ValueError:
        return []


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def names(cert):
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return []
    return sorted(n.lower() for n in san.get_values_for_type(x509.DNSName))


def issuer_cn(cert):
    values = cert.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
    return values[0].value if values else None


def fingerprint(cert):
    return cert.fingerprint(hashes.SHA256()).hex().upper()


def days_left(cert, now):
    return int((cert.not_valid_after_utc - now).total_seconds() // 86400)


def select_chain(fullchains, preferred):
    """(fullchain certificates, matched): the first chain in which a certificate was issued by `preferred` (an
    issuer common name, as certbot's --preferred-chain), else the CA's default (the first)."""
    parsed = [c for c in (load_chain(text) for text in fullchains) if c]
    if preferred:
        for chain in parsed:
            if any(issuer_cn(cert) == preferred for cert in chain[1:] or chain):
                return chain, True
    return parsed[0], not preferred


# -- the order ------------------------------------------------------------------------------------------------


class AcmeOrder:
    """One account on one CA: register (or find) the account, order, answer DNS-01 through `publish`."""

    def __init__(self, url, account_key, ca_path=None, validate_certs=True, timeout=30):
        self.jwk, alg = account_jwk(account_key)
        verify = (ca_path or True) if validate_certs else False
        self.net = PatientNetwork(self.jwk, alg=alg, verify_ssl=verify, user_agent="homelab.nas", timeout=timeout)
        try:
            self.directory = messages.Directory.from_json(self.net.get(url).json())
        except Exception as exc:  # noqa: BLE001 - requests' and the library's errors alike
            raise AcmeError("cannot read the ACME directory %s: %s" % (url, describe(exc)[0]), api="acme")
        self.acme = client.ClientV2(self.directory, net=self.net)

    def close(self):
        self.net.session.close()

    def terms_of_service(self):
        meta = self.directory.meta
        return getattr(meta, "terms_of_service", None) if meta else None

    def account(self, email, agreed):
        """Register the account key, or find the account it already has (the CA answers 200 + Location)."""
        contact = ("mailto:" + email,) if email else ()
        registration = messages.NewRegistration(contact=contact, terms_of_service_agreed=bool(agreed))
        try:
            return self.acme.new_account(registration).uri
        except acme_errors.ConflictError as exc:
            self.net.account = messages.RegistrationResource(uri=exc.location, body=messages.Registration())
            return exc.location
        except Exception as exc:  # noqa: BLE001
            raise acme_error(exc, "account")

    def order(self, key, hostnames):
        try:
            return self.acme.new_order(crypto_util.make_csr(pem_checks.key_pem(key), hostnames))
        except Exception as exc:  # noqa: BLE001
            raise acme_error(exc, "new order")

    def challenges(self, orderr):
        """[(authorization, dns-01 challenge body, TXT name, TXT value)] for every authorization not yet valid."""
        todo = []
        for authzr in orderr.authorizations:
            if authzr.body.status == messages.STATUS_VALID:
                continue
            found = [c for c in authzr.body.challenges if isinstance(c.chall, challenges.DNS01)]
            if not found:
                raise AcmeError(
                    "the CA offers no dns-01 challenge for %s; this module only answers dns-01"
                    % authzr.body.identifier.value,
                    api="acme",
                )
            name = CHALLENGE_PREFIX + authzr.body.identifier.value
            todo.append((authzr, found[0], name, found[0].chall.validation(self.jwk)))
        return todo

    def answer(self, todo):
        try:
            for _authzr, challb, _name, _value in todo:
                self.acme.answer_challenge(challb, challb.response(self.jwk))
        except Exception as exc:  # noqa: BLE001
            raise acme_error(exc, "answer challenge")

    def finish(self, orderr, timeout, alternatives):
        deadline = datetime.datetime.now() + datetime.timedelta(seconds=timeout)
        try:
            orderr = self.acme.poll_authorizations(orderr, deadline)
            return self.acme.finalize_order(orderr, deadline, fetch_alternative_chains=alternatives)
        except Exception as exc:  # noqa: BLE001
            raise acme_error(exc, "validation and finalization")


def sleep(seconds):
    if seconds > 0:
        time.sleep(seconds)
