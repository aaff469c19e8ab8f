# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""requests and urllib3's Retry, imported once for the HTTP clients (a missing library is reported, not raised),
and certificate pinning for them."""

from __future__ import annotations

import hashlib
import ssl

try:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPSConnection
    from urllib3.connectionpool import HTTPSConnectionPool
    from urllib3.util.retry import Retry

    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised by ansible-test's import test
    requests = HTTPAdapter = HTTPSConnection = HTTPSConnectionPool = None
    Retry = object
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = exc


class PinMismatch(Exception):
    """The server presented a certificate whose SHA-256 is not pinned. Not an OSError or SSLError on purpose:
    urllib3 retries those, and a wrong certificate does not become right by asking again."""

    def __init__(self, fingerprint):
        super().__init__("the server presented a certificate with SHA-256 %s, which is not pinned" % fingerprint)
        self.fingerprint = fingerprint


def sha256_fingerprint(der):
    """`AB:CD:...`, the form dsm_certificate returns and browsers show."""
    return hashlib.sha256(der).hexdigest().upper()


def colon_hex(digest):
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


_PIN_CONTEXT = []  # the one context of pinned connections in this process, made when first needed


def _pin_context():
    """A TLS context that checks nothing itself and loads no CA: a pinned connection's certificate is checked by
    its SHA-256 once connected. Without it urllib3 makes a context per connection and loads the system's CA store
    into it (tens of milliseconds, a DSM task's largest cost) only for the pin to decide. Never given a CA: urllib3
    gets none for these connections (requests' verify=False), so sharing it shares no trust."""
    if not _PIN_CONTEXT:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        _PIN_CONTEXT.append(context)
    return _PIN_CONTEXT[0]


def _pinned_pool_class(pins):
    """An HTTPS pool whose connections accept exactly the leaf certificates whose SHA-256 is in `pins` (a set
    the caller may grow; empty: no pinning, the usual CA and hostname checks apply)."""

    class PinnedConnection(HTTPSConnection):
        def connect(self):
            given_ca = any(getattr(self, name, None) for name in ("ca_certs", "ca_cert_dir", "ca_cert_data"))
            if pins and getattr(self, "ssl_context", None) is None and not given_ca:
                self.ssl_context = _pin_context()
            super().connect()
            if not pins:
                return
            der = self.sock.getpeercert(binary_form=True)
            digest = sha256_fingerprint(der or b"")
            if digest not in pins:
                self.close()
                raise PinMismatch(colon_hex(digest))
            self.is_verified = True  # checked by its pin: urllib3 would otherwise warn as for verify=False

    class PinnedPool(HTTPSConnectionPool):
        ConnectionCls = PinnedConnection

    return PinnedPool


class _PinningAdapter(HTTPAdapter if HAS_REQUESTS else object):
    def __init__(self, pins, **kwargs):
        self._pins = pins
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(
            self.poolmanager.pool_classes_by_scheme, https=_pinned_pool_class(self._pins)
        )


def session_with_retries(retry, pins=None):
    """A requests session whose adapters retry as `retry` says; with `pins` (a set of SHA-256 hex digests,
    upper case, no colons), HTTPS connections are checked against them whenever the set is not empty."""
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter if pins is None else _PinningAdapter(pins, max_retries=retry))
    return session


__all__ = [
    "HAS_REQUESTS",
    "REQUESTS_IMPORT_ERROR",
    "PinMismatch",
    "Retry",
    "colon_hex",
    "requests",
    "session_with_retries",
    "sha256_fingerprint",
]
