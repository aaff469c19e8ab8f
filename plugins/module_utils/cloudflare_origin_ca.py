# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""Cloudflare Origin CA (/certificates): list a zone's certificates, issue from a local CSR, revoke, and the
public Origin CA root that completes the chain. The private key is made here and never leaves the controller."""

from __future__ import annotations

import datetime

from ansible_collections.homelab.nas.plugins.module_utils import pem_checks
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_client import CloudflareError

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
except ImportError:  # pragma: no cover - reported through pem_checks.HAS_CRYPTOGRAPHY
    pass

ROOT_URLS = {
    "rsa": "https://developers.cloudflare.com/ssl/static/origin_ca_rsa_root.pem",
    "ecdsa": "https://developers.cloudflare.com/ssl/static/origin_ca_ecc_root.pem",
}
REQUEST_TYPES = {"rsa": "origin-rsa", "ecdsa": "origin-ecc"}


def usable(entry, wanted, key, request_type, renew_before, now):
    """The certificate of a listed entry when it can be kept: not revoked, same type, covers every wanted
    hostname, not within renew_before of expiry, and issued for the local key."""
    if entry.get("revoked_at") or entry.get("request_type", request_type) != request_type:
        return None
    if not set(wanted) <= set(entry.get("hostnames") or []):
        return None
    try:
        cert = x509.load_pem_x509_certificate(entry["certificate"].encode())
    except (KeyError, ValueError):
        return None
    if cert.not_valid_after_utc - now <= renew_before or not pem_checks.same_key(key, cert):
        return None
    return cert


def new_key_and_csr(key_type, hostnames):
    key = pem_checks.new_key(key_type)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, hostnames[0])]))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hostnames]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return pem_checks.key_pem(key), csr.public_bytes(serialization.Encoding.PEM).decode()


class OriginCa:
    def __init__(self, client, zone_id, root_cache=None):
        self.client = client
        self.zone_id = zone_id
        self.root_cache = root_cache  # a keyed_cache.KeyedCache of roots by URL, or None

    def certificates(self):
        return self.client.paginate("/certificates", zone_id=self.zone_id)

    def issue(self, hostnames, csr, request_type, requested_validity):
        return self.client.request(
            "POST",
            "/certificates",
            body=dict(hostnames=hostnames, csr=csr, request_type=request_type, requested_validity=requested_validity),
        )["result"]

    def revoke(self, cert_id):
        self.client.request("DELETE", "/certificates/%s" % cert_id)

    def root_for(self, url, cert, now=None):
        """The PEM of the root at `url` that issued `cert` (the file is public: no token is sent). Kept in
        root_cache by its URL once fetched; a cached root is used only while it parses, is a CA, is within its
        validity and issued `cert`, else it is fetched again."""
        now = now or datetime.datetime.now(datetime.timezone.utc)
        cached = self.root_cache.get(url) if self.root_cache else None
        if isinstance(cached, dict) and isinstance(cached.get("pem"), str):
            try:
                roots = [
                    r for r in pem_checks.load_certificates("cached root", cached["pem"].encode()) if _ca_at(r, now)
                ]
            except pem_checks.PemError:
                roots = []
            pem = _issuer_pem(cert, roots)
            if pem:
                return pem
        pem, status = self._fetch_root(url, cert)
        if pem is None:
            raise CloudflareError(
                "the certificate at %s (HTTP %s) did not issue the Origin CA certificate; set "
                "origin_ca_root_url to Cloudflare's Origin CA root" % (url, status)
            )
        if self.root_cache:
            self.root_cache.put(url, {"pem": pem})
        return pem

    def _fetch_root(self, url, cert):
        client = self.client
        try:
            response = client.http.get(
                url, timeout=client.timeout, verify=client.verify, headers={"Authorization": None}
            )
        except Exception as exc:  # requests' errors; the root is public, so no secret is involved
            raise CloudflareError("cannot fetch the Origin CA root from %s: %s" % (url, exc))
        roots = (
            pem_checks.load_certificates("origin CA root from %s" % url, response.content)
            if response.status_code == 200
            else []
        )
        return _issuer_pem(cert, roots), response.status_code


def _ca_at(cert, now):
    """Whether `cert` is a CA certificate valid at `now`."""
    try:
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    return is_ca and cert.not_valid_before_utc <= now < cert.not_valid_after_utc


def _issuer_pem(cert, candidates):
    """The PEM of the first of `candidates` that issued `cert`, or None."""
    for root in candidates:
        try:
            cert.verify_directly_issued_by(root)
            return root.public_bytes(serialization.Encoding.PEM).decode()
        except Exception:  # noqa: BLE001 - try the next certificate
            continue
    return None
