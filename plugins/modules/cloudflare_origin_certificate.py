#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_origin_certificate
short_description: Request, reuse, renew or revoke a Cloudflare Origin CA certificate
version_added: 0.1.0
description:
  - Makes sure a valid Cloudflare Origin CA certificate covers O(hostnames), for the origin (the NAS) to present
    to Cloudflare under the "Full (strict)" SSL mode.
  - The private key and the certificate signing request are made on the controller with cryptography; only the CSR
    is sent. The key is written to O(private_key_path) with mode 0600 and is never returned.
  - An existing certificate is reused when it covers the hostnames, is not within O(renew_before_days) of expiry,
    and its key is the one at O(private_key_path); otherwise a new one is requested.
  - Returns the certificate and Cloudflare's Origin CA root, which DSM needs as the intermediate certificate.
author:
  - homelab.nas maintainers (@homelab-nas)
extends_documentation_fragment:
  - homelab.nas.cloudflare
  - homelab.nas.cloudflare.zone
  - homelab.nas.attributes
  - homelab.nas.attributes.full
options:
  hostnames:
    description: Hostnames the certificate covers (wildcards like V(*.example.com) allowed), all in O(zone).
    type: list
    elements: str
    required: true
  private_key_path:
    description: Where the private key is kept on the controller (written with mode 0600).
    type: path
    required: true
  certificate_path:
    description: Where to write the certificate (PEM), if anywhere.
    type: path
  key_type:
    description: V(rsa) (2048 bits) or V(ecdsa) (P-256).
    type: str
    choices: [rsa, ecdsa]
    default: rsa
  dsm_compatible:
    description: Refuse O(key_type=ecdsa), which DSM 6 does not accept for imported certificates.
    type: bool
    default: true
  requested_validity:
    description: Validity in days.
    type: int
    choices: [7, 30, 90, 365, 730, 1095, 5475]
    default: 5475
  renew_before_days:
    description: Request a new certificate when the current one expires within this many days.
    type: int
    default: 30
  origin_ca_root_url:
    description:
      - Where Cloudflare publishes its Origin CA root for O(key_type). It is checked to have issued the certificate.
      - Defaults to Cloudflare's published RSA or ECC root.
    type: str
  state:
    description: V(present) to have a certificate, V(absent) to revoke every certificate for exactly these hostnames.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: Origin certificate for the NAS
  homelab.nas.cloudflare_origin_certificate:
    zone: example.com
    hostnames: [example.com, "*.example.com"]
    private_key_path: /etc/homelab/origin.key
  register: origin

- name: Import it into DSM with the Origin CA root as intermediate
  homelab.nas.dsm_certificate:
    description: cloudflare-origin
    certificate: "{{ origin.certificate }}"
    private_key: /etc/homelab/origin.key
    chain: "{{ origin.chain }}"
    default: true
"""

RETURN = r"""
id:
  description: Cloudflare's id of the certificate (null in check mode before one is requested).
  returned: when state=present
  type: str
certificate:
  description: The certificate, PEM (null in check mode before one is requested).
  returned: when state=present
  type: str
chain:
  description: Cloudflare's Origin CA root, PEM, to import into DSM as the intermediate.
  returned: when state=present and a certificate exists
  type: str
hostnames:
  description: Hostnames the certificate covers.
  returned: when state=present
  type: list
  elements: str
expires:
  description: End of validity, UTC.
  returned: when state=present and a certificate exists
  type: str
revoked:
  description: Ids of revoked certificates.
  returned: when state=absent
  type: list
  elements: str
"""

import datetime
import os
import tempfile

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_client import CloudflareError
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_module import CloudflareModule
from ansible_collections.homelab.nas.plugins.module_utils import pem_checks

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
except ImportError:  # pragma: no cover - reported through pem_checks.HAS_CRYPTOGRAPHY
    pass

ROOT_URLS = {"rsa": "https://developers.cloudflare.com/ssl/static/origin_ca_rsa_root.pem",
             "ecdsa": "https://developers.cloudflare.com/ssl/static/origin_ca_ecc_root.pem"}
REQUEST_TYPES = {"rsa": "origin-rsa", "ecdsa": "origin-ecc"}


def local_key(path):
    try:
        with open(path, "rb") as handle:
            return serialization.load_pem_private_key(handle.read(), password=None)
    except (OSError, ValueError, TypeError):
        return None


def same_key(cert, key):
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    return key is not None and cert.public_key().public_bytes(der, spki) == key.public_key().public_bytes(der, spki)


def write_private(path, data, mode):
    """Atomic write; the temporary file already has the final mode, so the key is never readable by others."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, tmp = tempfile.mkstemp(dir=directory, prefix=".homelab-nas-")
    try:
        os.fchmod(handle, mode)
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def usable(entry, wanted, key, request_type, renew_before, now):
    if entry.get("revoked_at") or entry.get("request_type", request_type) != request_type:
        return None
    if not set(wanted) <= set(entry.get("hostnames") or []):
        return None
    try:
        cert = x509.load_pem_x509_certificate(entry["certificate"].encode())
    except (KeyError, ValueError):
        return None
    if cert.not_valid_after_utc - now <= renew_before or not same_key(cert, key):
        return None
    return cert


def new_key_and_csr(key_type, hostnames):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048) if key_type == "rsa" \
        else ec.generate_private_key(ec.SECP256R1())
    csr = (x509.CertificateSigningRequestBuilder()
           .subject_name(x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, hostnames[0])]))
           .add_extension(x509.SubjectAlternativeName([x509.DNSName(h) for h in hostnames]), critical=False)
           .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem, csr.public_bytes(serialization.Encoding.PEM).decode()


def fetch_root(client, url, cert):
    try:
        response = client.http.get(url, timeout=client.timeout, verify=client.verify, headers={"Authorization": None})
    except Exception as exc:  # requests' errors; the root is public, so no secret is involved
        raise CloudflareError("cannot fetch the Origin CA root from %s: %s" % (url, exc))
    roots = pem_checks.load_certificates("origin CA root from %s" % url, response.content) \
        if response.status_code == 200 else []
    for root in roots:
        try:
            cert.verify_directly_issued_by(root)
            return root.public_bytes(serialization.Encoding.PEM).decode()
        except Exception:  # noqa: BLE001 - try the next certificate in the file
            continue
    raise CloudflareError("the certificate at %s (HTTP %s) did not issue the Origin CA certificate; set "
                          "origin_ca_root_url to Cloudflare's Origin CA root" % (url, response.status_code))


def present(mod, wanted):
    p = mod.params
    now = datetime.datetime.now(datetime.timezone.utc)
    request_type = REQUEST_TYPES[p["key_type"]]
    key = local_key(p["private_key_path"])
    existing = mod.client.paginate("/certificates", zone_id=mod.zone_id)
    reusable = [(cert, entry) for entry in existing
                for cert in [usable(entry, wanted, key, request_type,
                                    datetime.timedelta(days=p["renew_before_days"]), now)] if cert]
    result = dict(changed=False, hostnames=wanted)
    if reusable:
        cert, entry = max(reusable, key=lambda pair: pair[0].not_valid_after_utc)
        pem = entry["certificate"].strip() + "\n"
        result.update(id=entry["id"], certificate=pem)
        before = dict(id=entry["id"], expires=cert.not_valid_after_utc.isoformat())
        after = dict(before)
    else:
        cert, pem = None, None
        before = {}
        after = dict(id=None, hostnames=wanted, request_type=request_type, requested_validity=p["requested_validity"])
        result.update(changed=True, id=None, certificate=None)
        if not mod.check_mode:
            key_pem, csr = new_key_and_csr(p["key_type"], wanted)
            issued = mod.client.request("POST", "/certificates", body=dict(
                hostnames=wanted, csr=csr, request_type=request_type,
                requested_validity=p["requested_validity"]))["result"]
            cert = x509.load_pem_x509_certificate(issued["certificate"].encode())
            write_private(p["private_key_path"], key_pem, 0o600)
            pem = issued["certificate"].strip() + "\n"
            result.update(id=issued["id"], certificate=pem)
            after.update(id=issued["id"], expires=cert.not_valid_after_utc.isoformat())
    if cert is not None:
        result["expires"] = cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
        result["chain"] = fetch_root(mod.client, p["origin_ca_root_url"] or ROOT_URLS[p["key_type"]], cert)
    if p["certificate_path"]:
        on_disk = None
        if os.path.exists(p["certificate_path"]):
            with open(p["certificate_path"], encoding="utf-8") as handle:
                on_disk = handle.read()
        if on_disk != pem:
            result["changed"] = True
            after["certificate_path"] = p["certificate_path"]
            if pem is not None and not mod.check_mode:
                write_private(p["certificate_path"], pem.encode(), 0o644)
    if mod._diff:
        result["diff"] = dict(before=before, after=after)
    return result


def absent(mod, wanted):
    matching = [e for e in mod.client.paginate("/certificates", zone_id=mod.zone_id)
                if not e.get("revoked_at") and sorted(e.get("hostnames") or []) == sorted(wanted)]
    result = dict(changed=bool(matching), revoked=[e["id"] for e in matching])
    if mod._diff:
        result["diff"] = dict(before=dict(ids=result["revoked"]), after=dict(ids=[]))
    if not mod.check_mode:
        for entry in matching:
            mod.client.request("DELETE", "/certificates/%s" % entry["id"])
    return result


def main():
    module = CloudflareModule(
        argument_spec=dict(
            hostnames=dict(type="list", elements="str", required=True),
            private_key_path=dict(type="path", required=True, no_log=False),
            certificate_path=dict(type="path"),
            key_type=dict(type="str", default="rsa", choices=["rsa", "ecdsa"]),
            dsm_compatible=dict(type="bool", default=True),
            requested_validity=dict(type="int", default=5475, choices=[7, 30, 90, 365, 730, 1095, 5475]),
            renew_before_days=dict(type="int", default=30),
            origin_ca_root_url=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not pem_checks.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=str(pem_checks.CRYPTOGRAPHY_IMPORT_ERROR))
    if p["key_type"] == "ecdsa" and p["dsm_compatible"]:
        module.fail_json(msg="key_type: ecdsa is refused because DSM 6 does not accept ECDSA certificates for import; "
                             "use key_type: rsa, or set dsm_compatible: false if the certificate is not for DSM 6")
    wanted = sorted({h.strip().lower().rstrip(".") for h in p["hostnames"] if h.strip()})
    zone = p["zone"].lower().rstrip(".")
    outside = [h for h in wanted if not (h == zone or h.endswith("." + zone))]
    if not wanted or outside:
        module.fail_json(msg="hostnames: %s; every hostname must be in zone %s (for example %s or *.%s)"
                             % ("%s not in the zone" % ", ".join(outside) if outside else "none given", zone, zone, zone))
    if not 0 <= p["renew_before_days"] < p["requested_validity"]:
        module.fail_json(msg="renew_before_days: %s must be at least 0 and less than requested_validity (%s)"
                             % (p["renew_before_days"], p["requested_validity"]))
    key_dir = os.path.dirname(os.path.abspath(p["private_key_path"]))
    if p["state"] == "present" and not os.path.isdir(key_dir):
        module.fail_json(msg="private_key_path: directory %s does not exist; create it (mode 0700) first" % key_dir)
    module.run(lambda mod: present(mod, wanted) if p["state"] == "present" else absent(mod, wanted))


if __name__ == "__main__":
    main()
