"""SYNO.Core.Certificate (import, export), .CRT (list, set, delete) and .Service (set)."""

from __future__ import annotations

import io
import secrets
import string
import zipfile

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.lab.mock_dsm.api import Api
from tests.lab.mock_dsm.errors import ApiError
from tests.lab.mock_dsm.params import maybe_json as _json_param

DSM_TIME = "%b %d %H:%M:%S %Y GMT"  # DSM shows validity like OpenSSL: "May  6 00:00:00 2024 GMT"


ID_ALPHABET = string.ascii_letters + string.digits


def new_id(length=6):
    """Server-generated ids, shaped like DSM's certificate ids."""
    return "".join(secrets.choice(ID_ALPHABET) for position in range(length))


def apis(dsm):
    certs = Certificates(dsm.state)
    return {
        "SYNO.Core.Certificate": Api("entry.cgi", 1, 1, {
            "import": (certs.import_, True), "export": (certs.export, False)}),
        "SYNO.Core.Certificate.CRT": Api("entry.cgi", 1, 1, {
            "list": (certs.list, False), "set": (certs.set, True), "delete": (certs.delete, True)}),
        "SYNO.Core.Certificate.Service": Api("entry.cgi", 1, 1, {"set": (certs.bind, True)}),
    }


def _name(name):
    out = {}
    for oid, key in ((x509.NameOID.COMMON_NAME, "common_name"), (x509.NameOID.ORGANIZATION_NAME, "organization"),
                     (x509.NameOID.COUNTRY_NAME, "country")):
        attrs = name.get_attributes_for_oid(oid)
        if attrs:
            out[key] = attrs[0].value
    return out


def describe(entry, services):
    cert = x509.load_pem_x509_certificate(entry["cert_pem"].encode())
    subject = _name(cert.subject)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        subject["sub_alt_name"] = [str(v) for v in san.get_values_for_type(x509.DNSName)]
    except x509.ExtensionNotFound:
        subject["sub_alt_name"] = []
    key_type = "ECC" if isinstance(cert.public_key(), ec.EllipticCurvePublicKey) else "RSA"
    return {
        "desc": entry["desc"], "id": entry["id"], "is_broken": False, "is_default": entry["is_default"],
        "issuer": _name(cert.issuer), "key_types": key_type, "renewable": False, "services": services,
        "signature_algorithm": cert.signature_hash_algorithm.name + "With" + key_type,
        "subject": subject, "user_deletable": entry.get("user_deletable", True),
        "valid_from": cert.not_valid_before_utc.strftime(DSM_TIME),
        "valid_till": cert.not_valid_after_utc.strftime(DSM_TIME),
    }


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
                bound = [self.data["services"][key] for key, owner in sorted(self.data["bindings"].items())
                         if owner == cert_id]
                certs.append(describe(self.data["certificates"][cert_id], bound))
        return {"certificates": certs}

    def import_(self, request):
        if "key" not in request.files or "cert" not in request.files:
            raise ApiError(101)
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
                raise ApiError(5518)
            if not cert_id:
                cert_id = new_id()
                certificates[cert_id] = {"id": cert_id, "is_default": False, "user_deletable": True}
            entry = certificates[cert_id]
            entry.update(desc=request.param("desc", ""), cert_pem=cert_pem.decode(), key_pem=key_pem.decode(),
                         chain_pem=chain_pem.decode())
            if as_default:
                self._make_default(cert_id)
            self.state.save()
            in_use = entry["is_default"] or cert_id in self.data["bindings"].values()
        return {"id": cert_id, "restart_httpd": in_use}

    @staticmethod
    def _validate(cert_pem, key_pem, chain_pem):
        try:
            cert = x509.load_pem_x509_certificate(cert_pem)
        except ValueError:
            raise ApiError(5511)
        try:
            key = serialization.load_pem_private_key(key_pem, password=None)
        except (ValueError, TypeError):
            raise ApiError(5512)
        spki = serialization.PublicFormat.SubjectPublicKeyInfo
        der = serialization.Encoding.DER
        if key.public_key().public_bytes(der, spki) != cert.public_key().public_bytes(der, spki):
            raise ApiError(5514)
        if chain_pem.strip():
            try:
                chain = x509.load_pem_x509_certificates(chain_pem)
            except ValueError:
                raise ApiError(5513)
            try:
                cert.verify_directly_issued_by(chain[0])
            except (ValueError, TypeError, InvalidSignature):
                raise ApiError(5517)

    def _make_default(self, cert_id):
        for other in self.data["certificates"].values():
            other["is_default"] = other["id"] == cert_id

    def export(self, request):
        cert_id = _json_param(request.param("id"))
        with self.state.lock:
            entry = self.data["certificates"].get(cert_id)
            if entry is None:
                raise ApiError(5518)
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                archive.writestr("cert.pem", entry["cert_pem"])
                archive.writestr("privkey.pem", entry["key_pem"])
                if entry["chain_pem"]:
                    archive.writestr("chain.pem", entry["chain_pem"])
        return buffer.getvalue()

    def set(self, request):
        cert_id = _json_param(request.param("id"))
        with self.state.lock:
            entry = self.data["certificates"].get(cert_id)
            if entry is None:
                raise ApiError(5518)
            desc = request.param("desc")
            if desc is not None:
                entry["desc"] = _json_param(desc)
            if request.param("as_default") == "true":
                self._make_default(cert_id)
            self.state.save()
        return {}

    def delete(self, request):
        ids = _json_param(request.param("ids"))
        if not isinstance(ids, list):
            raise ApiError(101)
        with self.state.lock:
            certificates = self.data["certificates"]
            if any(i not in certificates for i in ids):
                raise ApiError(5518)
            if any(certificates[i]["is_default"] or not certificates[i].get("user_deletable", True) for i in ids):
                raise ApiError(101)
            default_id = next(c["id"] for c in certificates.values() if c["is_default"])
            for cert_id in ids:
                del certificates[cert_id]
                # Services of a deleted certificate fall back to the default one.
                for key, owner in self.data["bindings"].items():
                    if owner == cert_id:
                        self.data["bindings"][key] = default_id
            self.state.save()
        return {}

    def bind(self, request):
        settings = _json_param(request.param("settings"))
        if not isinstance(settings, list) or not settings:
            raise ApiError(101)
        with self.state.lock:
            for setting in settings:
                service = setting.get("service") or {}
                known = self.data["services"].get(service.get("service"))
                # DSM wants the service object it listed, not a hand-built one.
                if known is None or known.get("subscriber") != service.get("subscriber"):
                    raise ApiError(101)
                if setting.get("id") not in self.data["certificates"]:
                    raise ApiError(5518)
            for setting in settings:
                self.data["bindings"][setting["service"]["service"]] = setting["id"]
            self.state.save()
        return {}
