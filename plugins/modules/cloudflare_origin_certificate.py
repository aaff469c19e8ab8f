#!/usr/bin/python
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_origin_certificate
short_description: Request, reuse, renew or revoke a Cloudflare Origin CA certificate
version_added: 1.0.0
description:
  - Makes sure a valid Cloudflare Origin CA certificate covers O(hostnames), for the origin (the NAS) to present
    to Cloudflare under the "Full (strict)" SSL mode.
  - The private key and the certificate signing request are made on the controller with cryptography; only the CSR
    is sent. The key is written to O(private_key_path) with mode 0600 and is never returned.
  - An existing certificate is reused when it covers the hostnames, is not within O(renew_before_days) of expiry,
    and its key is the one at O(private_key_path); otherwise a new one is requested.
  - A file at O(private_key_path) that is not a PEM private key is refused, never overwritten; a key that no Origin
    certificate of the zone was issued for is moved aside (RV(key_backup)) before the new key is written.
  - Returns the certificate and Cloudflare's Origin CA root, which DSM needs as the intermediate certificate.
  - Tasks sharing O(private_key_path) (several hosts, forks, overlapping runs) take turns. Outside check mode the
    task holds an exclusive lock on C(.<name>.lock) beside the key from reading the key to writing it, so the
    next one reuses the certificate the first one got. Keys and certificates are written to a temporary file in
    the same directory (created 0600) and renamed into place, so no reader sees part of one.
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
      - The root is public; once fetched it is kept on the controller by its URL, in
        E(HOMELAB_NAS_CLOUDFLARE_CACHE_DIR) or else C(~/.cache/homelab.nas/cloudflare) (created mode 0700, files
        0600), so a later task needs no request for it. A kept root is used only while it parses, is a CA
        certificate within its validity and issued the certificate; otherwise it is fetched again.
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
key_backup:
  description:
    - Where the key that was at O(private_key_path) went, when it matched none of the zone's Origin certificates
      (so it may belong to something else) and a new key took its place.
  returned: when such a key was set aside
  type: str
revoked:
  description: Ids of revoked certificates.
  returned: when state=absent
  type: list
  elements: str
"""

import datetime
import os

from ansible_collections.homelab.nas.plugins.module_utils import file_lock, pem_checks
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_module import CloudflareModule
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_origin_ca import (
    REQUEST_TYPES,
    ROOT_URLS,
    OriginCa,
    new_key_and_csr,
    usable,
)
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_zone_cache import cloudflare_cache_dir
from ansible_collections.homelab.nas.plugins.module_utils.errors import HomelabInputError
from ansible_collections.homelab.nas.plugins.module_utils.keyed_cache import KeyedCache

try:
    from cryptography import x509
except ImportError:  # pragma: no cover - reported through pem_checks.HAS_CRYPTOGRAPHY
    pass


def local_key(path):
    try:
        with open(path, "rb") as handle:
            return pem_checks.load_key(handle.read())
    except OSError:
        return None


def _parsed(entries):
    for entry in entries:
        try:
            yield x509.load_pem_x509_certificate(entry["certificate"].encode())
        except (KeyError, ValueError, AttributeError):
            continue


def write_private(path, data, mode):
    """Atomic write; the temporary file already has the final mode, so the key is never readable by others."""
    file_lock.write_atomic(path, data, mode)


def read_text(path):
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    return None


def present(mod, api, wanted):
    p = mod.params
    now = datetime.datetime.now(datetime.timezone.utc)
    request_type = REQUEST_TYPES[p["key_type"]]
    key = local_key(p["private_key_path"])
    listed = api.certificates()
    foreign = key is not None and not any(pem_checks.same_key(key, cert) for cert in _parsed(listed))
    reusable = [
        (cert, entry)
        for entry in listed
        for cert in [usable(entry, wanted, key, request_type, datetime.timedelta(days=p["renew_before_days"]), now)]
        if cert
    ]
    result = dict(hostnames=wanted, id=None, certificate=None)
    held = dict(cert=None, pem=None)  # the certificate kept or issued
    if reusable:
        cert, entry = max(reusable, key=lambda pair: pair[0].not_valid_after_utc)
        held.update(cert=cert, pem=entry["certificate"].strip() + "\n")
        result.update(id=entry["id"], certificate=held["pem"])
        before = dict(id=entry["id"], expires=cert.not_valid_after_utc.isoformat())
        after = dict(before)
    else:
        before = {}
        after = dict(id=None, hostnames=wanted, request_type=request_type, requested_validity=p["requested_validity"])
    on_disk = read_text(p["certificate_path"])
    if p["certificate_path"] and (held["pem"] is None or on_disk != held["pem"]):
        after["certificate_path"] = p["certificate_path"]

    def apply():
        updates = {}
        if held["cert"] is None:
            key_pem, csr = new_key_and_csr(p["key_type"], wanted)
            issued = api.issue(wanted, csr, request_type, p["requested_validity"])
            if foreign:
                # A key no certificate of the zone was issued for may be someone else's: set it aside.
                backup = "%s.replaced-%s" % (p["private_key_path"], now.strftime("%Y%m%dT%H%M%SZ"))
                os.rename(p["private_key_path"], backup)
                os.chmod(backup, 0o600)
                updates["key_backup"] = backup
                mod.warn(
                    "private_key_path held a key no Origin certificate of the zone uses; it was moved to %s" % backup
                )
            write_private(p["private_key_path"], key_pem, 0o600)
            held.update(
                cert=x509.load_pem_x509_certificate(issued["certificate"].encode()),
                pem=issued["certificate"].strip() + "\n",
            )
            updates.update(id=issued["id"], certificate=held["pem"])
        if p["certificate_path"] and on_disk != held["pem"]:
            write_private(p["certificate_path"], held["pem"].encode(), 0o644)
        return updates

    result = mod.converge(before, after, apply, result)
    if held["cert"] is not None:
        result["expires"] = held["cert"].not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
        result["chain"] = api.root_for(p["origin_ca_root_url"] or ROOT_URLS[p["key_type"]], held["cert"])
    return result


def absent(mod, api, wanted):
    matching = [
        e["id"]
        for e in api.certificates()
        if not e.get("revoked_at") and sorted(e.get("hostnames") or []) == sorted(wanted)
    ]

    def apply():
        for cert_id in matching:
            api.revoke(cert_id)

    return mod.converge(dict(ids=matching), dict(ids=[]), apply, dict(revoked=matching))


def validate(p):
    """The wanted hostnames, sorted and lower-case; every check runs before Cloudflare is contacted."""
    if p["key_type"] == "ecdsa" and p["dsm_compatible"]:
        raise HomelabInputError(
            "key_type: ecdsa is refused because DSM 6 does not accept ECDSA certificates for "
            "import; use key_type: rsa, or set dsm_compatible: false if the certificate is not "
            "for DSM 6"
        )
    wanted = sorted({h.strip().lower().rstrip(".") for h in p["hostnames"] if h.strip()})
    zone = p["zone"].lower().rstrip(".")
    outside = [h for h in wanted if not (h == zone or h.endswith("." + zone))]
    if not wanted or outside:
        raise HomelabInputError(
            "hostnames: %s; every hostname must be in zone %s (for example %s or *.%s)"
            % ("%s not in the zone" % ", ".join(outside) if outside else "none given", zone, zone, zone)
        )
    if not 0 <= p["renew_before_days"] < p["requested_validity"]:
        raise HomelabInputError(
            "renew_before_days: %s must be at least 0 and less than requested_validity (%s)"
            % (p["renew_before_days"], p["requested_validity"])
        )
    key_path = p["private_key_path"]
    key_dir = os.path.dirname(os.path.abspath(key_path))
    if p["state"] == "present" and not os.path.isdir(key_dir):
        raise HomelabInputError("private_key_path: directory %s does not exist; create it (mode 0700) first" % key_dir)
    if p["state"] == "present" and os.path.exists(key_path) and local_key(key_path) is None:
        # Whatever that file is, it is not ours to overwrite.
        raise HomelabInputError(
            "private_key_path: %s exists but holds no unencrypted PEM private key; point private_key_path at a new "
            "file (or at the Origin certificate's key)" % key_path
        )
    return wanted


def run(mod, wanted):
    api = OriginCa(mod.client, mod.zone_id, root_cache=KeyedCache(cloudflare_cache_dir(), ".originroot.json"))
    if mod.params["state"] == "absent":
        return absent(mod, api, wanted)
    if mod.check_mode:
        return present(mod, api, wanted)  # writes nothing: the key file is read whole (atomic writes) without a lock
    # Read key, list, issue, write key: one step for every task sharing the key file (forks, overlapping runs).
    # The next holder finds this one's key and certificate and reuses them.
    with file_lock.locked(file_lock.sibling_lock(mod.params["private_key_path"]), what="Origin CA private key"):
        return present(mod, api, wanted)


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
        required_libraries={"cryptography": (pem_checks.HAS_CRYPTOGRAPHY, pem_checks.CRYPTOGRAPHY_IMPORT_ERROR)},
        supports_check_mode=True,
    )
    module.run(run, validate=validate)


if __name__ == "__main__":
    main()
