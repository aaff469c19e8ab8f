#!/usr/bin/python
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: acme_certificate
short_description: Get a certificate from an ACME CA (Let's Encrypt) by DNS-01 through Cloudflare
version_added: 1.0.0
description:
  - Makes sure the PEM files at O(certificate_path) (and O(chain_path), O(fullchain_path)) hold a certificate for
    exactly O(hostnames) (wildcards allowed) signed for the key at O(private_key_path), ordering one from the ACME
    CA at O(acme_directory) when there is none, it covers other names, its key differs, or it expires within
    O(renew_before_days). Otherwise nothing is ordered.
  - Built on the C(acme) library, the client library certbot uses. Each authorization is answered with a DNS-01
    challenge, a TXT record at C(_acme-challenge.<name>) created through the Cloudflare API in O(zone). The
    records this task created are deleted again however the order ends, also when it fails.
  - The account key at O(account_key_path) (ECDSA P-256, mode 0600) is created when missing. The certificate's key
    at O(private_key_path) (mode 0600) is generated when missing and kept across renewals unless
    O(regenerate_key) is set or O(key_type) differs from it. Neither is ever returned.
  - A file at any of the paths that is not what this module writes there (a PEM private key, PEM certificates) is
    refused before anything is contacted, never overwritten. Every file is written to a temporary file in its
    directory and renamed into place, so a reader never sees part of one; tasks sharing O(private_key_path) take
    turns (an exclusive lock on C(.<name>.lock) beside it).
  - The CA's C(badNonce) answers are retried (up to 5 tries per request); a failed order is never retried, since
    each try counts against the CA's rate limits.
  - In check mode nothing is contacted or written; RV(ordered) says whether the task would order.
author:
  - homelab.nas maintainers (@homelab-nas)
extends_documentation_fragment:
  - homelab.nas.cloudflare
  - homelab.nas.cloudflare.zone
  - homelab.nas.attributes
  - homelab.nas.attributes.full
requirements:
  - acme
  - cryptography
options:
  hostnames:
    description:
      - Names the certificate covers, all in O(zone); V(*.example.com) is a wildcard. The order of the list does not
        matter.
    type: list
    elements: str
    required: true
  acme_directory:
    description:
      - The ACME directory, V(staging) or V(production) for Let's Encrypt's, or the https:// URL of any ACME
        directory.
      - Use V(staging) until the task works; production's rate limits count failed orders too.
    type: str
    required: true
  acme_ca_path:
    description: CA bundle to verify the ACME server's TLS certificate with (a private CA); default the system's.
    type: path
  acme_validate_certs:
    description: Verify the ACME server's TLS certificate. Turn off only for a test CA on a trusted network.
    type: bool
    default: true
  acme_timeout:
    description:
      - Seconds the CA may take to validate the challenges and issue the certificate.
      - Each HTTP request to the CA times out after O(timeout) seconds, as Cloudflare's do.
    type: int
    default: 300
  account_key_path:
    description: The ACME account's key (PEM, mode 0600); an ECDSA P-256 key is created there when the file is missing.
    type: path
    required: true
  account_email:
    description: Contact address registered with a new account (the CA's expiry notices go there).
    type: str
  terms_agreed:
    description:
      - Agree to the CA's terms of service (the directory's C(termsOfService)) when a new account is registered.
        A CA that publishes terms refuses a new account without it.
    type: bool
    default: false
  private_key_path:
    description: The certificate's private key (PEM, mode 0600); generated when missing.
    type: path
    required: true
  key_type:
    description: The kind of key generated, V(rsa) (2048 bits, which DSM 6 needs) or V(ecdsa) (P-256).
    type: str
    choices: [rsa, ecdsa]
    default: rsa
  regenerate_key:
    description: Generate a new private key with the next order instead of keeping the one at O(private_key_path).
    type: bool
    default: false
  certificate_path:
    description: Where the certificate (leaf only, PEM, mode 0644) is written.
    type: path
    required: true
  chain_path:
    description: Where the intermediate certificates (PEM, mode 0644) are written, if anywhere.
    type: path
  fullchain_path:
    description: Where the certificate followed by the intermediates (PEM, mode 0644) is written, if anywhere.
    type: path
  preferred_chain:
    description:
      - The common name of an issuer in the chain to prefer, when the CA offers alternative chains (as certbot's
        C(--preferred-chain)), for example V(ISRG Root X1). Without a match the CA's default chain is used, with a
        warning.
    type: str
  renew_before_days:
    description: Order a new certificate when the current one expires within this many days.
    type: int
    default: 30
  propagation_seconds:
    description:
      - Seconds to wait after the TXT records exist in Cloudflare before the CA is asked to look them up.
    type: int
    default: 10
notes:
  - The Cloudflare API token needs Zone / DNS / Edit on O(zone).
  - The module runs on the controller (or wherever the task is delegated); import the result into DSM with
    M(homelab.nas.dsm_certificate).
seealso:
  - module: homelab.nas.dsm_certificate
  - module: homelab.nas.cloudflare_origin_certificate
"""

EXAMPLES = r"""
- name: A Let's Encrypt certificate for the NAS and every name under it
  homelab.nas.acme_certificate:
    zone: example.com
    hostnames: [nas.example.com, "*.nas.example.com"]
    acme_directory: production
    account_key_path: /etc/homelab/acme-account.key
    account_email: admin@example.com
    terms_agreed: true
    private_key_path: /etc/homelab/nas.key
    certificate_path: /etc/homelab/nas.crt
    chain_path: /etc/homelab/nas.chain.pem
    fullchain_path: /etc/homelab/nas.fullchain.pem
  register: le

- name: Replace DSM's certificate in place (its service bindings stay)
  homelab.nas.dsm_certificate:
    description: letsencrypt
    certificate: "{{ le.certificate }}"
    private_key: /etc/homelab/nas.key
    chain: "{{ le.chain }}"
  when: le.changed
"""

RETURN = r"""
ordered:
  description: Whether a certificate was ordered (in check mode, whether one would be).
  returned: always
  type: bool
reason:
  description: Why a certificate was (or would be) ordered; null when the one on disk is reused.
  returned: always
  type: str
hostnames:
  description: The names the certificate covers, sorted.
  returned: always
  type: list
  elements: str
certificate:
  description: The certificate, PEM (null in check mode before one is ordered).
  returned: always
  type: str
chain:
  description: The intermediate certificates, PEM (null in check mode before one is ordered, or when unknown).
  returned: always
  type: str
fullchain:
  description: The certificate followed by the intermediates, PEM (null when unknown).
  returned: always
  type: str
not_after:
  description: End of the certificate's validity, UTC (null in check mode before one is ordered).
  returned: always
  type: str
days_left:
  description: Whole days until RV(not_after) (null in check mode before one is ordered).
  returned: always
  type: int
nonce_retries:
  description: How many requests were sent again after the CA answered C(badNonce).
  returned: when a certificate was ordered
  type: int
txt_records_left:
  description:
    - The challenge TXT records (name, id and the error) that could not be deleted after the order; delete them in
      Cloudflare. The next order deletes them too (they carry this module's comment).
  returned: when a challenge record could not be deleted
  type: list
  elements: str
"""

import datetime
import os

from ansible_collections.homelab.nas.plugins.module_utils import (
    acme_client as a,
    dsm_validate as v,
    file_lock,
    pem_checks,
)
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_dns import CloudflareDns
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_module import CloudflareModule
from ansible_collections.homelab.nas.plugins.module_utils.errors import HomelabError, HomelabInputError

PUBLIC = 0o644
PRIVATE = 0o600
TXT_TTL = 60
TXT_COMMENT = "homelab.nas acme_certificate challenge"


def read(path):
    if path and os.path.exists(path):
        with open(path, "rb") as handle:
            return handle.read()
    return None


def text(path):
    data = read(path)
    return data.decode("utf-8", "replace") if data is not None else None


def validate(p):
    """Everything checked before a request or a write: names, directory, numbers and the files already there."""
    zone = v.name_key(p["zone"])
    hostnames = sorted({v.hostname("hostnames", h, wildcard=True) for h in p["hostnames"] if str(h).strip()})
    outside = [h for h in hostnames if not (h.lstrip("*.") == zone or h.endswith("." + zone))]
    if not hostnames or outside:
        raise HomelabInputError(
            "hostnames: %s; every name must be in zone %s (for example %s or *.%s)"
            % ("%s not in the zone" % ", ".join(outside) if outside else "none given", zone, zone, zone)
        )
    url = a.directory_url(p["acme_directory"])
    for field in ("renew_before_days", "propagation_seconds"):
        if p[field] < 0:
            raise HomelabInputError("%s: %s is negative; give 0 or more" % (field, p[field]))
    if p["acme_timeout"] <= 0:
        raise HomelabInputError("acme_timeout: %s seconds cannot work; give a number above 0" % p["acme_timeout"])
    paths = ("account_key_path", "private_key_path", "certificate_path", "chain_path", "fullchain_path")
    given = [p[f] for f in paths if p[f]]
    if len(set(given)) != len(given):
        raise HomelabInputError("%s: two of these options name the same file; give each its own" % ", ".join(paths))
    for field in paths:
        path = p[field]
        if not path:
            continue
        directory = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(directory):
            raise HomelabInputError("%s: directory %s does not exist; create it first" % (field, directory))
        data = read(path)
        if data is None:
            continue
        if field.endswith("key_path") and pem_checks.load_key(data) is None:
            raise HomelabInputError(
                "%s: %s exists but holds no unencrypted PEM private key, so it is not ours to overwrite; point "
                "%s at a new file" % (field, path, field)
            )
        if not field.endswith("key_path") and data.strip() and not a.load_chain(data.decode("utf-8", "replace")):
            raise HomelabInputError(
                "%s: %s exists but holds no PEM certificate, so it is not ours to overwrite; point %s at a new "
                "file" % (field, path, field)
            )
    return dict(hostnames=hostnames, url=url)


def on_disk(p, now):
    """What the files hold: the key, the leaf, its chain (from chain_path or fullchain_path) when known."""
    key = pem_checks.load_key(read(p["private_key_path"]) or b"")
    leaf = (a.load_chain(text(p["certificate_path"])) or [None])[0]
    chain = None
    if p["chain_path"] and os.path.exists(p["chain_path"]):
        chain = a.load_chain(text(p["chain_path"]))
    elif p["fullchain_path"] and os.path.exists(p["fullchain_path"]):
        full = a.load_chain(text(p["fullchain_path"]))
        chain = full[1:] if full and leaf is not None and full[0] == leaf else None
    return dict(key=key, leaf=leaf, chain=chain, now=now)


def order_reason(p, wanted, held):
    """Why a new certificate is needed, or None to reuse the one on disk."""
    leaf, key = held["leaf"], held["key"]
    if leaf is None:
        return "no certificate at certificate_path"
    if a.names(leaf) != wanted["hostnames"]:
        return "the certificate covers %s, not the declared hostnames" % ", ".join(a.names(leaf))
    if key is None:
        return "no private key at private_key_path"
    if not pem_checks.same_key(key, leaf):
        return "the certificate was not issued for the key at private_key_path"
    if p["regenerate_key"]:
        return "regenerate_key is set"
    if a.key_kind(key) != p["key_type"]:
        return "the key at private_key_path is not of key_type %s" % p["key_type"]
    if leaf.not_valid_before_utc > held["now"]:
        return "the certificate is not valid yet"
    left = a.days_left(leaf, held["now"])
    if left <= p["renew_before_days"]:
        return "the certificate expires in %d days, within renew_before_days (%d)" % (left, p["renew_before_days"])
    if held["chain"] is None and (p["chain_path"] or p["fullchain_path"]):
        return "the intermediate certificates are not on disk (chain_path, fullchain_path)"
    return None


def outputs(p, leaf, chain):
    """path -> (content, mode) for the certificate files."""
    leaf_pem, chain_pem = a.pem(leaf), "".join(a.pem(c) for c in chain)
    files = {p["certificate_path"]: leaf_pem}
    if p["chain_path"]:
        files[p["chain_path"]] = chain_pem
    if p["fullchain_path"]:
        files[p["fullchain_path"]] = leaf_pem + chain_pem
    return files


def stale(files):
    return sorted(path for path, content in files.items() if text(path) != content)


def description(leaf):
    return dict(hostnames=a.names(leaf), not_after=leaf.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"))


class Challenges:
    """The TXT records of one order in the zone, deleted again by cleanup() whatever happened in between."""

    def __init__(self, mod):
        self.mod = mod
        self.dns = CloudflareDns(mod.client, mod.zone_id)
        self.created = []

    def publish(self, todo):
        with self.mod.zone_locked():
            # Records of an earlier run that was killed before its cleanup (they carry this module's comment).
            for name in sorted({name for _authzr, _challb, name, _value in todo}):
                for stale_record in self.dns.find("TXT", name):
                    if stale_record.get("comment") == TXT_COMMENT:
                        self.dns.delete(stale_record["id"])
            for _authzr, _challb, name, value in todo:
                record = dict(type="TXT", name=name, content='"%s"' % value, ttl=TXT_TTL, comment=TXT_COMMENT)
                self.created.append(self.dns.create(record))
        for _authzr, _challb, name, value in todo:
            contents = [r.get("content", "").strip('"') for r in self.dns.find("TXT", name)]
            if value not in contents:
                raise HomelabError(
                    "the TXT record %s is not in Cloudflare's list right after it was created; the CA would not "
                    "find it either" % name,
                    api="cloudflare",
                )

    def cleanup(self):
        left = []
        for record in self.created:
            try:
                self.dns.delete(record["id"])
            except HomelabError as exc:
                left.append("%s (%s): %s" % (record["name"], record["id"], exc))
        self.created = []
        if left:
            self.mod.partial["txt_records_left"] = left
            self.mod.warn(
                "could not delete these challenge TXT records; delete them in Cloudflare: %s" % "; ".join(left)
            )


def account_key(p):
    """The account key, and whether it has to be written (created here, written only once the CA is reachable)."""
    key = pem_checks.load_key(read(p["account_key_path"]) or b"")
    return (key, False) if key is not None else (pem_checks.new_key("ecdsa"), True)


def order(mod, wanted, held):
    """Order, answer, finalize; returns (key, leaf, chain, nonce_retries) with every file written."""
    p = mod.params
    acct, acct_new = account_key(p)
    acme = a.AcmeOrder(
        wanted["url"], acct, ca_path=p["acme_ca_path"], validate_certs=p["acme_validate_certs"], timeout=p["timeout"]
    )
    try:
        if acme.terms_of_service() and not p["terms_agreed"] and acct_new:
            raise HomelabInputError(
                "terms_agreed: the CA publishes terms of service (%s) that a new account must agree to; read them "
                "and set terms_agreed: true" % acme.terms_of_service()
            )
        if acct_new:
            with file_lock.locked(file_lock.sibling_lock(p["account_key_path"]), what="ACME account key"):
                if read(p["account_key_path"]) is None:  # another task may have made it meanwhile
                    file_lock.write_atomic(p["account_key_path"], pem_checks.key_pem(acct), PRIVATE)
                else:
                    acct, _new = account_key(p)
                    acme.close()
                    acme = a.AcmeOrder(
                        wanted["url"],
                        acct,
                        ca_path=p["acme_ca_path"],
                        validate_certs=p["acme_validate_certs"],
                        timeout=p["timeout"],
                    )
        acme.account(p["account_email"], p["terms_agreed"])
        keep = held["key"] is not None and not p["regenerate_key"] and a.key_kind(held["key"]) == p["key_type"]
        key = held["key"] if keep else pem_checks.new_key(p["key_type"])
        orderr = acme.order(key, wanted["hostnames"])
        todo = acme.challenges(orderr)
        txt = Challenges(mod)
        try:
            txt.publish(todo)
            a.sleep(p["propagation_seconds"])
            acme.answer(todo)
            orderr = acme.finish(orderr, p["acme_timeout"], bool(p["preferred_chain"]))
        finally:
            txt.cleanup()
        full, matched = a.select_chain(
            [orderr.fullchain_pem] + list(orderr.alternative_fullchains_pem or []), p["preferred_chain"]
        )
        if not matched:
            mod.warn(
                "preferred_chain: no chain the CA offers has an issuer named '%s'; its default chain is used"
                % p["preferred_chain"]
            )
        leaf, chain = full[0], full[1:]
        if a.names(leaf) != wanted["hostnames"]:
            raise a.AcmeError("the CA issued a certificate for %s instead" % ", ".join(a.names(leaf)), api="acme")
        # Key first: an interruption leaves a key the old certificate does not match, so the next run orders.
        if not keep:
            file_lock.write_atomic(p["private_key_path"], pem_checks.key_pem(key), PRIVATE)
        for path, content in outputs(p, leaf, chain).items():
            file_lock.write_atomic(path, content, PUBLIC)
        return leaf, chain, acme.net.nonce_retries
    finally:
        acme.close()


def present(mod, wanted):
    p = mod.params
    now = datetime.datetime.now(datetime.timezone.utc)
    held = on_disk(p, now)
    reason = order_reason(p, wanted, held)
    result = dict(ordered=reason is not None, reason=reason, hostnames=wanted["hostnames"])
    result.update(certificate=None, chain=None, fullchain=None, not_after=None, days_left=None)
    if reason is None:
        leaf, chain = held["leaf"], held["chain"] or []
        before = description(leaf)
        rewrite = stale(outputs(p, leaf, chain))
        after = dict(before, rewrite=rewrite) if rewrite else dict(before)
    else:
        leaf, chain = held["leaf"], held["chain"]
        before = description(leaf) if leaf is not None else {}
        after = dict(hostnames=wanted["hostnames"], not_after="(a new certificate)")
        if held["leaf"] is not None and a.days_left(held["leaf"], now) <= p["renew_before_days"]:
            doing = "it would be renewed" if mod.check_mode else "renewing"
            mod.warn("%s: %s; %s" % (p["certificate_path"], reason, doing))
    # The chain is unknown (None) when neither chain_path nor fullchain_path is given: nothing to return then.
    state = dict(leaf=leaf if reason is None else None, chain=held["chain"] if reason is None else None)

    def apply():
        if reason is None:
            for path in rewrite:
                file_lock.write_atomic(path, outputs(p, leaf, chain)[path], PUBLIC)
            return {}
        new_leaf, new_chain, retries = order(mod, wanted, held)
        state.update(leaf=new_leaf, chain=new_chain)
        return dict(nonce_retries=retries)

    # A new certificate's description is known once the CA issued it: the diff shows that one, not the prediction.
    issued = (lambda: description(state["leaf"])) if reason is not None else None
    result = mod.converge(before, after, apply, result, after_apply=issued)
    if state["leaf"] is not None:
        leaf_pem, chain_pem = a.pem(state["leaf"]), "".join(a.pem(c) for c in state["chain"] or [])
        result.update(
            certificate=leaf_pem,
            chain=chain_pem if state["chain"] is not None else None,
            fullchain=leaf_pem + chain_pem if state["chain"] is not None else None,
            not_after=description(state["leaf"])["not_after"],
            days_left=a.days_left(state["leaf"], now),
        )
        if result["days_left"] <= p["renew_before_days"]:
            mod.warn(
                "the certificate at %s expires in %d days, within renew_before_days (%d)"
                % (p["certificate_path"], result["days_left"], p["renew_before_days"])
            )
    return result


def run(mod, wanted):
    if mod.check_mode:
        return present(mod, wanted)  # reads whole files (atomic writes), contacts nothing, writes nothing
    # One task at a time per key: the next one finds this one's certificate and reuses it.
    with file_lock.locked(file_lock.sibling_lock(mod.params["private_key_path"]), what="ACME certificate key"):
        return present(mod, wanted)


def main():
    module = CloudflareModule(
        argument_spec=dict(
            hostnames=dict(type="list", elements="str", required=True),
            acme_directory=dict(type="str", required=True),
            acme_ca_path=dict(type="path"),
            acme_validate_certs=dict(type="bool", default=True),
            acme_timeout=dict(type="int", default=300),
            account_key_path=dict(type="path", required=True, no_log=False),
            account_email=dict(type="str"),
            terms_agreed=dict(type="bool", default=False),
            private_key_path=dict(type="path", required=True, no_log=False),
            key_type=dict(type="str", default="rsa", choices=["rsa", "ecdsa"]),
            regenerate_key=dict(type="bool", default=False, no_log=False),
            certificate_path=dict(type="path", required=True),
            chain_path=dict(type="path"),
            fullchain_path=dict(type="path"),
            preferred_chain=dict(type="str"),
            renew_before_days=dict(type="int", default=30),
            propagation_seconds=dict(type="int", default=10),
        ),
        required_libraries={
            "acme": (a.HAS_ACME, a.ACME_IMPORT_ERROR),
            "cryptography": (pem_checks.HAS_CRYPTOGRAPHY, pem_checks.CRYPTOGRAPHY_IMPORT_ERROR),
        },
        supports_check_mode=True,
    )
    module.run(run, validate=validate)


if __name__ == "__main__":
    main()
