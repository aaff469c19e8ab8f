# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""One HTTP(S) request as a visitor or an attacker makes it, and what it showed: the TLS version, the
certificate, the status and the headers. Connection and TLS failures are results, not exceptions: the
caller decides whether a refusal is what it wanted."""

from __future__ import annotations

import datetime
import functools
import hashlib
import http.client
import socket
import ssl
import warnings

try:
    from cryptography import x509

    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised by ansible-test's import test
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = exc

VERSIONS = {"1.0": "TLSv1", "1.1": "TLSv1_1", "1.2": "TLSv1_2", "1.3": "TLSv1_3"}


def _version(name):
    with warnings.catch_warnings():  # TLS 1.0/1.1 are deprecated; offering them is what a min-version check needs
        warnings.simplefilter("ignore", DeprecationWarning)
        return getattr(ssl.TLSVersion, VERSIONS[name])


def context(validate_certs=True, ca_path=None, client_cert=None, client_key=None, min_version=None, max_version=None):
    ctx = ssl.create_default_context(cafile=ca_path) if validate_certs else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if not validate_certs:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if min_version:
            ctx.minimum_version = _version(min_version)
        if max_version:
            if not min_version:
                ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
            ctx.maximum_version = _version(max_version)
    if (min_version or max_version or "1.2") in ("1.0", "1.1"):
        # OpenSSL 3 will not offer TLS 1.0/1.1 at its default security level; a probe for them must.
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    if client_cert:
        ctx.load_cert_chain(client_cert, client_key)
    return ctx


def certificate_facts(der, now=None):
    """Subject, issuer, SANs, validity and fingerprint of a DER certificate."""
    facts = dict(_parsed(der))
    now = now or datetime.datetime.now(datetime.timezone.utc)
    facts["days_left"] = (datetime.datetime.fromisoformat(facts["not_after"]) - now).days
    facts["sans"] = list(facts["sans"])
    return facts


@functools.lru_cache(maxsize=64)
def _parsed(der):
    """What a DER certificate says, parsed once: probing many names, an edge presents one certificate to all."""
    cert = x509.load_der_x509_certificate(der)
    try:
        sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.DNSName
        )
    except x509.ExtensionNotFound:
        sans = []
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "sans": tuple(sans),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "sha256": hashlib.sha256(der).hexdigest(),
    }


def covers(sans, hostname):
    """Whether a certificate's DNS names cover hostname (a wildcard covers one label, RFC 6125)."""
    hostname = hostname.lower().rstrip(".")
    for name in sans:
        name = name.lower().rstrip(".")
        if name == hostname:
            return True
        if name.startswith("*.") and "." in hostname and hostname.split(".", 1)[1] == name[2:]:
            return True
    return False


def probe(address, port, server_name, path="/", tls=True, method="GET", headers=None, timeout=10.0, ssl_context=None):
    """What one request showed. Keys: reachable, tls_established, tls_version, certificate, status,
    headers (lower-case names), body (first 4 KiB), error, error_kind (refused, timeout, unreachable,
    certificate, tls, http). ssl_context (from context(), required with tls) is made once by a caller
    probing many names: loading the system's CA store costs more than a handshake, and it is thread-safe."""
    result = {
        "reachable": False,
        "tls_established": False,
        "tls_version": None,
        "certificate": None,
        "status": None,
        "headers": {},
        "body": None,
        "error": None,
        "error_kind": None,
    }
    try:
        sock = socket.create_connection((address, port), timeout=timeout)
    except ConnectionRefusedError as exc:
        return dict(result, error="connection refused: %s" % exc, error_kind="refused")
    except socket.timeout:
        return dict(result, error="no answer within %s s" % timeout, error_kind="timeout")
    except OSError as exc:
        return dict(result, error=str(exc), error_kind="unreachable")
    result["reachable"] = True
    try:
        if tls:
            try:
                sock = ssl_context.wrap_socket(sock, server_hostname=server_name)
            except ssl.SSLCertVerificationError as exc:
                return dict(result, error="certificate not trusted: %s" % exc.verify_message, error_kind="certificate")
            except (ssl.SSLError, OSError) as exc:
                return dict(result, error="TLS handshake failed: %s" % exc, error_kind="tls")
            result.update(
                tls_established=True,
                tls_version=sock.version(),
                certificate=certificate_facts(sock.getpeercert(binary_form=True)),
            )
        connection = http.client.HTTPConnection(server_name, port, timeout=timeout)
        connection.sock = sock
        try:
            connection.request(method, path, headers=dict(headers or {}, Connection="close"))
            reply = connection.getresponse()
            body = reply.read(4096)
        except (http.client.HTTPException, OSError) as exc:
            # nginx's ssl_verify_client on TLS 1.3 may end the connection instead of answering 400.
            return dict(result, error="no HTTP answer: %s" % (exc or type(exc).__name__), error_kind="http")
        result.update(
            status=reply.status,
            headers={k.lower(): v for k, v in reply.getheaders()},
            body=body.decode("utf-8", "replace"),
        )
        return result
    finally:
        sock.close()
