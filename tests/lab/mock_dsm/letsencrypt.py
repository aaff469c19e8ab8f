"""SYNO.Core.Certificate.LetsEncrypt (create, renew): DSM's own Let's Encrypt client, synchronous.

Sources (docs/lab-fidelity.md has a row per method and behaviour): mikespub/synology's API dump (v1 create
and renew); batonogov/terraform-provider-synology-dsm `internal/client/certificate.go` and `CLAUDE.md`
(`domain_name` holds every name `;`-joined, common name first, with `email` and `desc`; one blocking call,
no task id, the new certificate not in the answer: clients re-list CRT.list); a Python client and a shipping
JS client found by code search (both also send `as_default`, the JS client JSON-quoting its strings); a Rust
client (renew takes `id`). The 5520-5530 meanings are DSM's message table as batonogov's `errors.go` and
go-synology give them (5528: wildcards only for Synology DDNS domains).

Lab's own, where no source says: the certificate is issued at once by the lab's own CA (tests/lab/pki.py),
not by an ACME server, with an issuer shaped like Let's Encrypt's (organisation "Let's Encrypt"), 90 days,
RSA 2048; HTTP-01 is not performed (the outcomes 5520-5527/5529/5530 are injected with the lab's faults);
a bad e-mail is 5525, a malformed name list 5526; renew re-issues in place (same id, bindings kept).
"""

from __future__ import annotations

import re
import threading

from cryptography import x509
from cryptography.x509.oid import NameOID

from tests.lab import pki
from tests.lab.mock_dsm.api import Api
from tests.lab.mock_dsm.certificates import new_id
from tests.lab.mock_dsm.errors import ApiError
from tests.lab.mock_dsm.params import boolean, invalid, maybe_json, required

API = "SYNO.Core.Certificate.LetsEncrypt"
# The Synology DDNS domains DSM's client issues wildcards for (5528 elsewhere).
SYNOLOGY_DOMAINS = ("synology.me", "diskstation.me", "i234.me", "myds.me", "dscloud.biz", "dscloud.me")
LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
VALID_DAYS = 90
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def apis(dsm):
    issuer = LetsEncrypt(dsm.state)
    return {API: Api("entry.cgi", 1, 1, {"create": (issuer.create, True), "renew": (issuer.renew, True)})}


def _text(request, name):
    value = maybe_json(required(request, name))
    return value if isinstance(value, str) else str(value)


def _names(value):
    names = [n.strip().lower().rstrip(".") for n in value.split(";")]
    for name in names:
        labels = name.split(".")
        if labels and labels[0] == "*":
            labels = labels[1:]
        if len(labels) < 2 or not all(LABEL.match(label) for label in labels):
            raise ApiError(5526)
    if len(set(names)) != len(names):
        raise ApiError(5526)
    return names


class LetsEncrypt:
    def __init__(self, state):
        self.state = state
        self._ca_lock = threading.Lock()
        self._ca = None

    def _issuer(self):
        """The lab's stand-in for Let's Encrypt's intermediate (made once per mock)."""
        with self._ca_lock:
            if self._ca is None:
                key = pki.rsa_key()
                name = x509.Name(
                    [
                        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Let's Encrypt"),
                        x509.NameAttribute(NameOID.COMMON_NAME, "R10 (homelab.nas lab)"),
                    ]
                )
                self._ca = (pki.issue("", key, ca=True, days=3650, name=name), key)
            return self._ca

    def _issue(self, names):
        ca, ca_key = self._issuer()
        key = pki.rsa_key()
        cert = pki.issue(names[0], key, ca, ca_key, sans=names, days=VALID_DAYS)
        return pki.pem(cert).decode(), pki.pem(key).decode(), pki.pem(ca).decode()

    def create(self, request):
        names = _names(_text(request, "domain_name"))
        email = _text(request, "email")
        if not EMAIL.match(email):
            raise ApiError(5525)
        for name in names:
            if name.startswith("*.") and not name.endswith(tuple("." + d for d in SYNOLOGY_DOMAINS)):
                raise ApiError(5528)
        desc = maybe_json(request.param("desc", ""))
        as_default = boolean(maybe_json(request.param("as_default", "false")))
        cert_pem, key_pem, chain_pem = self._issue(names)
        with self.state.lock:
            certificates = self.state.data["certificates"]
            cert_id = new_id()
            certificates[cert_id] = {
                "id": cert_id,
                "is_default": False,
                "user_deletable": True,
                "desc": desc if isinstance(desc, str) else str(desc),
                "cert_pem": cert_pem,
                "key_pem": key_pem,
                "chain_pem": chain_pem,
                "letsencrypt": {"domains": names, "email": email},
            }
            if as_default:
                for other in certificates.values():
                    other["is_default"] = other["id"] == cert_id
            self.state.save()
        return {}

    def renew(self, request):
        cert_id = maybe_json(required(request, "id"))
        with self.state.lock:
            entry = self.state.data["certificates"].get(cert_id)
            if entry is None or not entry.get("letsencrypt"):
                raise invalid("id", "invalid")  # the lab's choice: no source shows DSM's answer
            names = entry["letsencrypt"]["domains"]
        cert_pem, key_pem, chain_pem = self._issue(names)
        with self.state.lock:
            entry = self.state.data["certificates"].get(cert_id)
            if entry is None:
                raise invalid("id", "invalid")
            entry.update(cert_pem=cert_pem, key_pem=key_pem, chain_pem=chain_pem)
            self.state.save()
        return {}
