# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""DSM's certificate APIs: SYNO.Core.Certificate(.CRT, .Service, .LetsEncrypt)."""

from __future__ import annotations

import io
import json
import zipfile

from ansible_collections.homelab.nas.plugins.module_utils import dsm_errors, pem_checks
from ansible_collections.homelab.nas.plugins.module_utils.dsm_errors import DsmError
from ansible_collections.homelab.nas.plugins.module_utils.keyed_cache import KeyedCache

CERT_API = "SYNO.Core.Certificate"
CRT_API = "SYNO.Core.Certificate.CRT"
SERVICE_API = "SYNO.Core.Certificate.Service"
LETSENCRYPT_API = "SYNO.Core.Certificate.LetsEncrypt"

# SYNO.Core.Certificate* import errors, with the meanings of DSM's own message table (as the public
# clients N4S4/synology-api error_codes.py and batonogov/terraform-provider-synology-dsm errors.go give it).
CERTIFICATE_ERRORS = {
    5510: "DSM rejected the certificate file (not a valid certificate)",
    5511: "DSM rejected the private key file (not a valid private key)",
    5512: "DSM rejected the intermediate certificate file",
    5513: "DSM does not support the certificate's cipher type",
    5514: "the private key does not match the certificate",
    5515: "DSM wants a certificate issued by a trusted authority",
    5516: "the uploaded files must be UTF-8 encoded",
    5517: "the certificate does not verify against the intermediate certificates",
    5518: "DSM does not support DSA certificates",
    5519: "the certificate signing request is invalid",
    5534: "the key is too short: DSM wants more than 1024 bits",
}

# SYNO.Core.Certificate.LetsEncrypt: DSM's message table (batonogov/terraform-provider-synology-dsm errors.go,
# go-synology, N4S4/synology-api error_codes.py for 5528), each with what to do. Never retried by this collection:
# every request DSM sends to Let's Encrypt spends one of its rate-limit slots.
LETSENCRYPT_ERRORS = {
    5520: "DSM got no response from Let's Encrypt: check that the NAS reaches the internet (DNS, gateway, proxy) "
    "and try again later",
    5521: "Let's Encrypt could not validate the domain over HTTP-01: TCP port 80 from the internet must reach the "
    "NAS (forward port 80 on the router to the NAS, allow it in DSM's firewall, and check your ISP does not block "
    "it); wait before retrying, each failed validation counts against Let's Encrypt's limits",
    5522: "Let's Encrypt could not validate the issuer/domain: check that every name resolves publicly to this "
    "NAS's public address and that nothing else answers port 80 for it",
    5523: "too many Let's Encrypt accounts were registered from this IP address: wait (hours) before trying again",
    5524: "Let's Encrypt's rate limit was reached (certificates per registered domain or duplicate certificates "
    "per week): wait for the limit's window to pass (up to a week); do not retry now",
    5525: "Let's Encrypt refused the e-mail address: give a valid address of a domain that accepts mail",
    5526: "DSM refused a parameter of the request: check the names (no empty, duplicate or invalid name)",
    5527: "Let's Encrypt is busy or under maintenance: try again later",
    5528: "DSM's Let's Encrypt client issues wildcard certificates only for Synology DDNS domains (synology.me and "
    "its sisters): drop the wildcard, or use acme_certificate (DNS-01) for it",
    5529: "a name is not publicly resolvable: publish an A/AAAA record for each name pointing at the NAS's public "
    "address (for example with cloudflare_dns_records or DDNS) and wait for it to propagate",
    5530: "Let's Encrypt could not connect to the domain: check the public IP the names resolve to, the router's "
    "port 80 forward, DSM's firewall and any proxy in front (a Cloudflare-proxied name must reach the NAS's port "
    "80 through Cloudflare)",
}
dsm_errors.register(CERT_API, CERTIFICATE_ERRORS)
dsm_errors.register(LETSENCRYPT_API, LETSENCRYPT_ERRORS)


def service_name(service):
    """How users name a binding: DSM's display name (a reverse-proxy entry shows its hostname)."""
    return service.get("display_name") or service.get("service")


def certificate_record(cert, identity=None):
    """The one view of a DSM certificate that modules compare and return: DSM's list fields, with the
    PEM identity (fingerprints, exact validity) over them when it was read."""
    subject = cert.get("subject") or {}
    record = dict(
        id=cert["id"],
        description=cert.get("desc", ""),
        default=bool(cert.get("is_default")),
        subject=subject.get("common_name", ""),
        issuer=(cert.get("issuer") or {}).get("common_name", ""),
        sans=subject.get("sub_alt_name", []),
        not_before=cert.get("valid_from"),
        not_after=cert.get("valid_till"),
        services=sorted(service_name(s) for s in cert.get("services") or []),
    )
    record.update(identity or {})
    return record


# What CRT.list shows of the certificate itself (mikespub/synology's CRT.list schema, batonogov's captured reply):
# names, issuer, validity to the second, key type and signature algorithm, but no fingerprint and no serial.
LISTED_IDENTITY = ("subject", "issuer", "valid_from", "valid_till", "key_types", "signature_algorithm")


def listed_identity(cert):
    return {k: cert.get(k) for k in LISTED_IDENTITY}


class VerifiedCertificates:
    """What the export of a certificate showed (pem_checks.summary: fingerprints of the certificate and its chain,
    names, validity), by DSM URL and certificate id, together with what CRT.list showed of it then. CRT.list cannot
    tell two certificates of one CA for the same names and validity apart (it has no fingerprint, no serial), so
    it cannot replace the export, but it does tell when the stored certificate may have changed: while DSM lists
    it exactly as then, the export is not made again. Public data only (no key), in the DSM modules' cache
    directory (keyed_cache.py)."""

    def __init__(self, client):
        self._cache = KeyedCache(client.cache_dir, ".crt.json")
        self._prefix = "crt|%s|" % client.base_url

    def get(self, cert):
        entry = self._cache.get(self._prefix + cert["id"])
        if isinstance(entry, dict) and entry.get("listed") == listed_identity(cert):
            identity = entry.get("identity")
            if isinstance(identity, dict) and isinstance(identity.get("fingerprint_sha256"), str):
                return identity
        return None

    def put(self, cert, identity):
        """Remember `identity` for the certificate as listed (None forgets it)."""
        value = {"listed": listed_identity(cert), "identity": identity} if identity else None
        self._cache.put(self._prefix + cert["id"], value)


class DsmCertificates:
    def __init__(self, client, verified=None):
        self.client = client
        self.verified = verified  # VerifiedCertificates, or None: every record(with_pem) exports

    def list(self):
        return self.client.read(CRT_API, "list", 1).get("certificates", [])

    def find(self, certificates, description=None, cert_id=None):
        if cert_id:
            matches = [c for c in certificates if c["id"] == cert_id]
        else:
            matches = [c for c in certificates if c.get("desc") == description]
        if len(matches) > 1:
            raise DsmError(
                "%d certificates have the description '%s'; set id to pick one (ids: %s)"
                % (len(matches), description, ", ".join(c["id"] for c in matches))
            )
        return matches[0] if matches else None

    def record(self, cert, with_pem=True):
        """certificate_record of a listed certificate; with_pem reads its PEM (one export request), unless
        `verified` holds what an export showed while DSM listed the certificate as it does now."""
        if not with_pem:
            return certificate_record(cert)
        identity = self.verified.get(cert) if self.verified else None
        if identity is None:
            identity = self.identity(cert["id"])
            if self.verified:
                self.verified.put(cert, identity)
        return certificate_record(cert, identity)

    def imported(self, cert, identity):
        """After an import into `cert` (as DSM lists it now): remember the bundle's identity, if DSM lists the
        names it holds (what DSM stores is what it was sent; the next task's list shows any later change)."""
        subject = cert.get("subject") or {}
        if self.verified and (
            subject.get("common_name") == identity["subject"]
            and sorted(subject.get("sub_alt_name") or []) == sorted(identity["sans"])
        ):
            self.verified.put(cert, identity)

    def identity(self, cert_id):
        """Fingerprints, names and validity of the stored certificate and chain."""
        leaf, chain = self.export_pems(cert_id)
        return pem_checks.summary(leaf, chain)

    def export_pems(self, cert_id):
        """The stored certificate and chain, from DSM's export archive (the key is discarded)."""
        data = self.client.call(CERT_API, "export", 1, raw=True, file='"archive"', id=cert_id)
        if isinstance(data, dict):
            raise DsmError("%s.export returned no archive for certificate %s" % (CERT_API, cert_id))
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            members = {name.rsplit("/", 1)[-1]: name for name in archive.namelist()}
            cert = archive.read(members["cert.pem"])
            chain = archive.read(members["chain.pem"]) if "chain.pem" in members else b""
        except (zipfile.BadZipFile, KeyError) as exc:
            raise DsmError("%s.export: unexpected archive for certificate %s (%s)" % (CERT_API, cert_id, exc))
        leaf = pem_checks.load_certificates("stored certificate", cert)[0]
        chain_certs = pem_checks.load_certificates("stored chain", chain) if chain.strip() else []
        return leaf, chain_certs

    def import_bundle(self, bundle, description, cert_id=None, as_default=False):
        files = {
            "key": ("privkey.pem", bundle.key_pem, "application/x-x509-ca-cert"),
            "cert": ("cert.pem", bundle.cert_pem, "application/x-x509-ca-cert"),
        }
        if bundle.chain:
            files["inter_cert"] = ("chain.pem", bundle.chain_pem, "application/x-x509-ca-cert")
        # DSM reads any non-empty as_default as true, so the field is only sent when wanted.
        return self.client.write(
            CERT_API,
            "import",
            1,
            files=files,
            id=cert_id or "",
            desc=description,
            as_default="true" if as_default else None,
        )

    def update(self, cert_id, description, as_default=False):
        """Rename and/or make default. CRT.set takes JSON-encoded strings."""
        return self.client.write(
            CRT_API,
            "set",
            1,
            id=json.dumps(cert_id),
            desc=json.dumps(description),
            as_default=True if as_default else None,
        )

    def request_letsencrypt(self, names, email, description, as_default=False, timeout=None):
        """DSM's own Let's Encrypt client (HTTP-01): one request that DSM answers when the certificate is issued
        or refused, after minutes at worst, without the new certificate (re-list to find it). `domain_name` holds
        every name `;`-joined, the common name first; strings travel JSON-quoted, as_default only when wanted (as
        with import). Never retried: each request spends one of Let's Encrypt's rate-limit slots."""
        return self.client.write(
            LETSENCRYPT_API,
            "create",
            1,
            request_timeout=timeout,
            domain_name=json.dumps(";".join(names)),
            email=json.dumps(email),
            desc=json.dumps(description),
            as_default="true" if as_default else None,
        )

    def delete(self, cert_id):
        reply = self.client.write(CRT_API, "delete", 1, ids=[cert_id])
        if self.verified:
            self.verified.put({"id": cert_id}, None)
        return reply

    def bind(self, settings):
        """settings: [{"service": <object as listed by DSM>, "old_id": ..., "id": ...}]"""
        return self.client.write(SERVICE_API, "set", 1, settings=settings)


def all_services(certificates):
    """Every bindable service, with the id of the certificate it uses now."""
    services = {}
    for cert in certificates:
        for service in cert.get("services") or []:
            services[service_name(service)] = (service, cert["id"])
    return services
