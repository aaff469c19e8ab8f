"""SYNO.Core.Certificate (import, export), .CRT (list, set, delete) and .Service (set)."""

from __future__ import annotations

import io
import secrets
import string
import zipfile

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, rsa

from tests.lab.mock_dsm import listeners
from tests.lab.mock_dsm.api import Api
from tests.lab.mock_dsm.errors import ApiError
from tests.lab.mock_dsm.params import invalid, maybe_json as _json_param, required

ID_ALPHABET = string.ascii_letters + string.digits
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def new_id(length=6):
    """Server-generated ids, shaped like DSM's certificate ids."""
    return "".join(secrets.choice(ID_ALPHABET) for position in range(length))


def apis(dsm):
    certs = Certificates(dsm.state)
    return {
        "SYNO.Core.Certificate": Api(
            "entry.cgi", 1, 1, {"import": (certs.import_, True), "export": (certs.export, False)}
        ),
        "SYNO.Core.Certificate.CRT": Api(
            "entry.cgi", 1, 1, {"list": (certs.list, False), "set": (certs.set, True), "delete": (certs.delete, True)}
        ),
        "SYNO.Core.Certificate.Service": Api("entry.cgi", 1, 1, {"set": (certs.bind, True)}),
    }


def dsm_time(moment):
    """OpenSSL's asctime as DSM shows validity, day space-padded: "May  6 00:00:00 2024 GMT"."""
    return "%s %2d %s GMT" % (MONTHS[moment.month - 1], moment.day, moment.strftime("%H:%M:%S %Y"))


def _name(name):
    out = {}
    for oid, key in (
        (x509.NameOID.COMMON_NAME, "common_name"),
        (x509.NameOID.ORGANIZATION_NAME, "organization"),
        (x509.NameOID.COUNTRY_NAME, "country"),
        (x509.NameOID.LOCALITY_NAME, "city"),
    ):
        attrs = name.get_attributes_for_oid(oid)
        if attrs:
            out[key] = attrs[0].value
    return out


def _signature_algorithm(cert):
    """OpenSSL's names, as DSM lists them ("sha256WithRSAEncryption", "ecdsa-with-SHA256")."""
    digest = cert.signature_hash_algorithm.name
    if isinstance(cert.public_key(), ec.EllipticCurvePublicKey):
        return "ecdsa-with-" + digest.upper()
    return digest + "WithRSAEncryption"


def describe(entry, services):
    cert = x509.load_pem_x509_certificate(entry["cert_pem"].encode())
    subject = _name(cert.subject)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        subject["sub_alt_name"] = [str(v) for v in san.get_values_for_type(x509.DNSName)]
    except x509.ExtensionNotFound:
        subject["sub_alt_name"] = []
    key_type = "ECC" if isinstance(cert.public_key(), ec.EllipticCurvePublicKey) else "RSA"
    described = {
        "desc": entry["desc"],
        "id": entry["id"],
        "is_broken": False,
        "is_default": entry["is_default"],
        "issuer": _name(cert.issuer),
        "key_types": "" if entry.get("factory") else key_type,
        # DSM's own Let's Encrypt certificates are the ones it renews (letsencrypt.py).
        "renewable": bool(entry.get("letsencrypt")),
        "services": services,
        "signature_algorithm": _signature_algorithm(cert),
        "subject": subject,
        "user_deletable": entry.get("user_deletable", True),
        "valid_from": dsm_time(cert.not_valid_before_utc),
        "valid_till": dsm_time(cert.not_valid_after_utc),
    }
    if entry.get("factory"):
        # DSM marks only its built-in certificate, with the subject and issuer of its own CA
        # (batonogov's CLAUDE.md; CRT.list replies quoted by public clients).
        ca = x509.load_pem_x509_certificate(entry["chain_pem"].encode())
        described["self_signed_cacrt_info"] = {"issuer": _name(ca.issuer), "subject": _name(ca.subject)}
    return described


class Certificates:
    def __init__(self, state):
        self.state = state

    @property
    def data(self):
        return self.state.data

    def list(self, request):
        with self.state.lock:
            certs = []
            for cert_id in sorted(self.data["certificates"]):
                bound = [
                    service
                    for key, service in sorted(self.data["services"].items())
                    if listeners.certificate_of(self.data, key) == cert_id
                ]
                certs.append(describe(self.data["certificates"][cert_id], bound))
        return {"certificates": certs}

    def import_(self, request):
        for part in ("key", "cert"):
            if part not in request.files:
                raise ApiError(114)
        cert_pem = request.files["cert"][1]
        key_pem = request.files["key"][1]
        chain_pem = request.files.get("inter_cert", ("", b""))[1]
        self._validate(cert_pem, key_pem, chain_pem)
        cert_id = request.param("id", "")
        # Any non-empty as_default counts as true on DSM, "false" included.
        as_default = bool(request.param("as_default", ""))
        with self.state.lock:
            certificates = self.data["certificates"]
            if cert_id and cert_id not in certificates:
                # No source shows DSM's answer to an unknown id: the lab's choice (docs/lab-fidelity.md).
                raise invalid("id", "invalid")
            if not cert_id:
                cert_id = new_id()
                certificates[cert_id] = {"id": cert_id, "is_default": False, "user_deletable": True}
            entry = certificates[cert_id]
            entry.update(
                desc=request.param("desc", ""),
                cert_pem=cert_pem.decode(),
                key_pem=key_pem.decode(),
                chain_pem=chain_pem.decode(),
            )
            entry.pop("factory", None)
            entry.pop("letsencrypt", None)  # an imported certificate is not one DSM renews
            if as_default:
                self._make_default(cert_id)
            self.state.save()
            in_use = entry["is_default"] or cert_id in self.data["bindings"].values()
        return {"id": cert_id, "restart_httpd": in_use}

    @staticmethod
    def _validate(cert_pem, key_pem, chain_pem):
        """DSM's import errors, with the meanings of its message table (N4S4 error_codes.py, batonogov
        errors.go): 5510 certificate, 5511 key, 5512 intermediate, 5514 mismatch, 5517 chain, 5518 DSA,
        5534 key of 1024 bits or less."""
        try:
            cert = x509.load_pem_x509_certificate(cert_pem)
        except ValueError:
            raise ApiError(5510) from None
        if isinstance(cert.public_key(), dsa.DSAPublicKey):
            raise ApiError(5518)
        try:
            key = serialization.load_pem_private_key(key_pem, password=None)
        except (ValueError, TypeError):
            raise ApiError(5511) from None
        spki = serialization.PublicFormat.SubjectPublicKeyInfo
        der = serialization.Encoding.DER
        if key.public_key().public_bytes(der, spki) != cert.public_key().public_bytes(der, spki):
            raise ApiError(5514)
        if isinstance(key, rsa.RSAPrivateKey) and key.key_size <= 1024:
            raise ApiError(5534)
        if chain_pem.strip():
            try:
                chain = x509.load_pem_x509_certificates(chain_pem)
            except ValueError:
                raise ApiError(5512) from None
            try:
                cert.verify_directly_issued_by(chain[0])
            except (ValueError, TypeError, InvalidSignature):
                raise ApiError(5517) from None

    def _make_default(self, cert_id):
        for other in self.data["certificates"].values():
            other["is_default"] = other["id"] == cert_id

    def _entry(self, request, name="id"):
        entry = self.data["certificates"].get(_json_param(required(request, name)))
        if entry is None:
            raise invalid(name, "invalid")  # the lab's choice: no source shows DSM's answer
        return entry

    def export(self, request):
        with self.state.lock:
            entry = self._entry(request)
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                archive.writestr("cert.pem", entry["cert_pem"])
                archive.writestr("privkey.pem", entry["key_pem"])
                if entry["chain_pem"]:
                    archive.writestr("chain.pem", entry["chain_pem"])
        return buffer.getvalue()

    def set(self, request):
        with self.state.lock:
            entry = self._entry(request)
            desc = request.param("desc")
            if desc is not None:
                entry["desc"] = _json_param(desc)
            if request.param("as_default") == "true":
                self._make_default(entry["id"])
            self.state.save()
        return {}

    def delete(self, request):
        ids = _json_param(required(request, "ids"))
        if not isinstance(ids, list):
            raise invalid("ids")
        with self.state.lock:
            certificates = self.data["certificates"]
            if any(i not in certificates for i in ids):
                raise invalid("ids", "invalid")
            if any(certificates[i]["is_default"] or not certificates[i].get("user_deletable", True) for i in ids):
                raise invalid("ids", "invalid")  # the default or a built-in one: the lab's choice of answer
            default_id = listeners.default_certificate(self.data)
            for cert_id in ids:
                del certificates[cert_id]
                # Services of a deleted certificate fall back to the default one.
                for key, owner in self.data["bindings"].items():
                    if owner == cert_id:
                        self.data["bindings"][key] = default_id
            self.state.save()
        return {}

    def bind(self, request):
        """settings=[{service: <object as listed>, old_id, id}]. old_id must be the service's current
        certificate: DSM uses it to detect concurrent changes (PM's DSM 7.3.2 capture; batonogov sends
        the correct one). DSM's answer to a stale one was not observed: 120 naming it is the lab's choice."""
        settings = _json_param(required(request, "settings"))
        if not isinstance(settings, list) or not settings or not all(isinstance(s, dict) for s in settings):
            raise invalid("settings")
        with self.state.lock:
            for setting in settings:
                service = setting.get("service") if isinstance(setting.get("service"), dict) else {}
                key = service.get("service")
                known = self.data["services"].get(key)
                # DSM wants the service object it listed, not a hand-built one.
                if known is None or known.get("subscriber") != service.get("subscriber"):
                    raise invalid("service", "invalid")
                if "old_id" not in setting:
                    raise ApiError(114)
                if setting["old_id"] != listeners.certificate_of(self.data, key):
                    raise invalid("old_id", "invalid")
                if setting.get("id") not in self.data["certificates"]:
                    raise invalid("id", "invalid")
            for setting in settings:
                self.data["bindings"][setting["service"]["service"]] = setting["id"]
            self.state.save()
        return {}
