#!/usr/bin/python
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dsm_certificate
short_description: Import, replace, bind or delete a TLS certificate on Synology DSM
version_added: 1.0.0
description:
  - Imports a certificate with its private key and intermediate chain into DSM
    (Control Panel > Security > Certificate), makes it the default, and binds it to DSM services and
    reverse-proxy hostnames.
  - The certificate is identified by its DSM description (or O(id)). Idempotent by SHA-256 fingerprint of
    the certificate and its chain; a different certificate replaces the stored one in place, keeping its id
    and therefore its service bindings.
  - Everything is validated locally before DSM is contacted for a write (PEM syntax, key matches
    certificate, chain order and signatures, expiry, RSA key size).
author:
  - homelab.nas maintainers (@homelab-nas)
extends_documentation_fragment:
  - homelab.nas.dsm
  - homelab.nas.attributes
  - homelab.nas.attributes.full
options:
  description:
    description:
      - DSM description of the certificate, which identifies it. Must be unique on the DSM unless O(id) is set.
    type: str
    required: true
    aliases: [desc]
  id:
    description:
      - DSM id of the certificate, when descriptions are ambiguous. The description is then updated too.
    type: str
  state:
    description:
      - V(present) imports or replaces the certificate and applies O(default) and O(services).
      - V(absent) deletes it. The default certificate cannot be deleted; make another one the default first.
    type: str
    choices: [present, absent]
    default: present
  certificate:
    description:
      - The certificate, as PEM text or a path to a PEM file on the controller.
      - A full-chain file is accepted; certificates after the first are used as the chain.
      - May be left out with O(state=present) to only change O(default) or O(services) of an existing certificate.
    type: str
  private_key:
    description:
      - The certificate's private key, as PEM text or a path to a PEM file on the controller.
    type: str
  private_key_passphrase:
    description:
      - Passphrase of an encrypted O(private_key). DSM cannot import encrypted keys, so the key is
        decrypted on the controller and sent over the (TLS) connection.
    type: str
  chain:
    description:
      - Intermediate certificates, issuer first, as PEM text or a path. For a Cloudflare Origin CA certificate,
        Cloudflare's Origin CA root.
    type: str
  default:
    description:
      - Make this certificate DSM's default. V(false) only checks it is not the default (DSM cannot unset a
        default without another one being made default). Unset leaves it as it is.
      - Where DSM Desktop Service uses the current default, a new default may move it along (DSM binds services
        without an explicit assignment to the default), so the task pins this certificate too, as for a binding
        of V(DSM Desktop Service).
    type: bool
  services:
    description:
      - DSM services (as DSM displays them, for example V(DSM Desktop Service), or their service id such as
        V(default)) and reverse-proxy hostnames that must use this certificate.
      - Services not listed keep the certificate they have.
      - Binding V(DSM Desktop Service) makes DSM's own HTTPS port present this certificate. The task then pins
        it for this controller (see O(tls_fingerprints)) before the write, so this and every later task and run
        keep verifying DSM's TLS although no public CA signed it or it does not name the address used.
    type: list
    elements: str
notes:
  - The stored certificate is read with DSM's export call to compare fingerprints; the exported private key
    is discarded and never returned.
  - What an export showed (fingerprints, names, validity; no key) is remembered on the controller in
    O(session_cache_dir), keyed by DSM URL and certificate id, with what DSM's certificate list showed of it (subject,
    issuer, names, validity to the second, key type, signature algorithm); so is a certificate this module imported.
    While DSM lists the certificate exactly so, the export is not made again and a no-op task is one request.
    DSM's list has no fingerprint or serial number, so a certificate replaced outside this module by one the list
    shows alike (the same names from the same CA, valid from and until the same second) goes unnoticed until that
    file is removed.
seealso:
  - module: homelab.nas.dsm_info
"""

EXAMPLES = r"""
- name: Import the Cloudflare Origin CA certificate, make it default, serve DSM and a reverse proxy host
  homelab.nas.dsm_certificate:
    description: cloudflare-origin
    certificate: /etc/homelab/origin.pem
    private_key: "{{ vault_origin_key }}"
    chain: /etc/homelab/origin_ca_rsa_root.pem
    default: true
    services:
      - DSM Desktop Service
      - photos.example.com
  module_defaults:
    group/homelab.nas.dsm:
      host: nas.lan
      username: ansible
      password: "{{ vault_dsm_password }}"

- name: Remove an old certificate
  homelab.nas.dsm_certificate:
    description: old-letsencrypt
    state: absent
"""

RETURN = r"""
certificate:
  description: The certificate as DSM holds it after the task (planned values in check mode).
  returned: when state=present
  type: dict
  contains:
    id:
      description: DSM id (null for a certificate still to be created in check mode).
      type: str
    description:
      description: DSM description.
      type: str
    default:
      description: Whether it is DSM's default certificate.
      type: bool
    fingerprint_sha256:
      description: SHA-256 fingerprint of the certificate.
      type: str
    chain_fingerprints_sha256:
      description: SHA-256 fingerprints of the chain, issuer first.
      type: list
      elements: str
    subject:
      description: Subject common name.
      type: str
    issuer:
      description: Issuer common name.
      type: str
    sans:
      description: Subject alternative names.
      type: list
      elements: str
    not_before:
      description: Start of validity, UTC.
      type: str
    not_after:
      description: End of validity, UTC.
      type: str
    services:
      description: Names of the services bound to it.
      type: list
      elements: str
  sample:
    id: Xf3k9Q
    description: cloudflare-origin
    default: true
    fingerprint_sha256: "AB:CD:..."
    chain_fingerprints_sha256: ["12:34:..."]
    subject: example.com
    issuer: CloudFlare Origin Certificate
    sans: [example.com, "*.example.com"]
    not_before: "2026-01-01T00:00:00Z"
    not_after: "2041-01-01T00:00:00Z"
    services: [DSM Desktop Service]
restart_httpd:
  description: Whether DSM restarted its web server after an import.
  returned: when a certificate was imported
  type: bool
"""

from ansible_collections.homelab.nas.plugins.module_utils import pem_checks
from ansible_collections.homelab.nas.plugins.module_utils.dsm_certificates import (
    DsmCertificates,
    VerifiedCertificates,
    all_services,
    certificate_record,
)
from ansible_collections.homelab.nas.plugins.module_utils.dsm_module import DsmModule

IDENTITY_ONLY = ("id", "description", "default", "services")
DESKTOP_SERVICE = "default"  # DSM Desktop Service's key: the certificate DSM's own HTTPS port presents


def desired_bundle(module, params):
    """The validated certificate bundle (None when only bindings change); PemError names the option."""
    if params["state"] != "present" or params["certificate"] is None:
        return None
    bundle = pem_checks.validate_bundle(
        pem_checks.read_pem_option("certificate", params["certificate"]),
        pem_checks.read_pem_option("private_key", params["private_key"]),
        pem_checks.read_pem_option("chain", params["chain"]),
        passphrase=params["private_key_passphrase"],
    )
    for warning in bundle.warnings:
        module.warn(warning)
    return bundle


def resolve_services(module, wanted, services):
    """Map user names (display name or service id) to DSM's service objects, failing on unknown ones."""
    by_id = {entry[0].get("service"): name for name, entry in services.items()}
    resolved = []
    for name in wanted or []:
        key = name if name in services else by_id.get(name)
        if key is None:
            module.fail_json(
                msg="services: '%s' is not a DSM service or reverse-proxy hostname on this DSM. "
                "Known: %s" % (name, ", ".join(sorted(services)))
            )
        resolved.append(key)
    return sorted(set(resolved))


def present(module, api, certificates, current, bundle):
    p = module.params
    if current is None and bundle is None:
        module.fail_json(
            msg="certificate and private_key are required to create '%s' (no certificate with "
            "that description exists on DSM)" % p["description"]
        )
    if p["default"] is False and current and current.get("is_default"):
        module.fail_json(
            msg="default: false cannot be applied to '%s', the current default certificate; set "
            "default: true on the certificate that should replace it" % p["description"]
        )
    services = all_services(certificates)
    wanted_services = resolve_services(module, p["services"], services)

    before = api.record(current) if current else None
    identity = bundle.summary() if bundle else {k: v for k, v in before.items() if k not in IDENTITY_ONLY}
    after = dict(identity)
    after.update(
        id=current["id"] if current else None,
        description=p["description"],
        default=p["default"] if p["default"] is not None else bool(before and before["default"]),
        services=sorted(set(before["services"] if before else []) | set(wanted_services)),
    )

    # A new default moves DSM Desktop Service with it when DSM binds it implicitly ("used by every service without
    # an explicit assignment", batonogov's set_as_default), and not when it is bound by name (a DSM 7 guide has
    # users re-assign services after a new default). CRT.list shows both alike, so trust both outcomes.
    old_default = next((c["id"] for c in certificates if c.get("is_default")), None)
    desktop_on_default = any(
        service.get("service") == DESKTOP_SERVICE and cert_id == old_default for service, cert_id in services.values()
    )
    new_default = after["default"] and not (before and before["default"])

    def apply():
        updates = {}
        needs_import = before is None or any(
            before[k] != after[k] for k in ("fingerprint_sha256", "chain_fingerprints_sha256")
        )
        cert_id = after["id"]
        to_desktop = any(
            services[name][0].get("service") == DESKTOP_SERVICE for name in after["services"] if name in services
        )
        if to_desktop or (new_default and desktop_on_default):
            # DSM's own web server presents this certificate from the next handshake on (or may): trust it
            # (pinned, in this task and, recorded, in later ones) before the write that makes it so.
            module.client.expect_certificate(after["fingerprint_sha256"])
        if needs_import:
            reply = api.import_bundle(bundle, p["description"], cert_id=cert_id, as_default=after["default"])
            cert_id = reply.get("id") or cert_id
            updates["restart_httpd"] = bool(reply.get("restart_httpd"))
        elif after["default"] != before["default"] or after["description"] != before["description"]:
            api.update(cert_id, p["description"], as_default=after["default"])
        if cert_id is None:
            cert_id = api.find(api.list(), description=p["description"])["id"]
        settings = [
            dict(service=services[name][0], old_id=services[name][1], id=cert_id)
            for name in wanted_services
            if services[name][1] != cert_id
        ]
        if settings:
            api.bind(settings)
        listed = api.find(api.list(), cert_id=cert_id)
        if needs_import:
            api.imported(listed, identity)
        updates["certificate"] = certificate_record(listed, identity)
        return updates

    return module.converge(before or {}, after, apply, dict(certificate=after))


def absent(module, api, current):
    if current and current.get("is_default"):
        module.fail_json(
            msg="'%s' is DSM's default certificate and cannot be deleted; make another "
            "certificate the default first" % current.get("desc")
        )
    before = dict(id=current["id"], description=current.get("desc")) if current else {}
    return module.converge(before, {}, lambda: api.delete(current["id"]))


def main():
    module = DsmModule(
        argument_spec=dict(
            description=dict(type="str", required=True, aliases=["desc"]),
            id=dict(type="str"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            certificate=dict(type="str"),
            private_key=dict(type="str", no_log=True),
            private_key_passphrase=dict(type="str", no_log=True),
            chain=dict(type="str"),
            default=dict(type="bool"),
            services=dict(type="list", elements="str"),
        ),
        required_together=[("certificate", "private_key")],
        required_libraries={"cryptography": (pem_checks.HAS_CRYPTOGRAPHY, pem_checks.CRYPTOGRAPHY_IMPORT_ERROR)},
        supports_check_mode=True,
    )

    def body(mod, bundle):
        api = DsmCertificates(mod.client, verified=VerifiedCertificates(mod.client))
        certificates = api.list()
        current = api.find(certificates, description=mod.params["description"], cert_id=mod.params["id"])
        if mod.params["state"] == "absent":
            return absent(mod, api, current)
        return present(mod, api, certificates, current, bundle)

    # All local validation happens before the first request to DSM.
    module.run(body, validate=lambda params: desired_bundle(module, params))


if __name__ == "__main__":
    main()
