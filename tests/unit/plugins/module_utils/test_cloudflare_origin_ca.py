"""cloudflare_origin_ca against the mock API: issue from a local CSR, reuse, revoke, and the root."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_client import CloudflareError
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_origin_ca import OriginCa, new_key_and_csr, usable

HOSTS = ["*.example.test", "example.test"]
NOW = datetime.datetime.now(datetime.UTC)


def test_issue_reuse_and_revoke(cf_client, cloudflare_lab):
    ca = OriginCa(cf_client, cf_client.zone_id("example.test"))
    key_pem, csr = new_key_and_csr("rsa", HOSTS)
    key = serialization.load_pem_private_key(key_pem, password=None)
    issued = ca.issue(HOSTS, csr, "origin-rsa", 30)
    listed = {e["id"]: e for e in ca.certificates()}
    assert issued["id"] in listed
    cert = usable(listed[issued["id"]], HOSTS, key, "origin-rsa", datetime.timedelta(days=7), NOW)
    assert cert is not None, "a fresh certificate for our key is kept"
    assert usable(listed[issued["id"]], HOSTS, key, "origin-rsa", datetime.timedelta(days=31), NOW) is None
    other_key = serialization.load_pem_private_key(new_key_and_csr("rsa", HOSTS)[0], password=None)
    assert usable(listed[issued["id"]], HOSTS, other_key, "origin-rsa", datetime.timedelta(days=7), NOW) is None
    root = x509.load_pem_x509_certificate(ca.root_for(cloudflare_lab.origin_ca_root_url, cert).encode())
    cert.verify_directly_issued_by(root)
    ca.revoke(issued["id"])
    assert cloudflare_lab.state()["certificates"][issued["id"]]["revoked_at"]
    assert all(
        usable(e, HOSTS, key, "origin-rsa", datetime.timedelta(days=7), NOW) is None
        for e in ca.certificates()
        if e["id"] == issued["id"]
    ), "a revoked certificate is never reused"


def test_a_root_that_did_not_issue_the_certificate_is_refused(cf_client, cloudflare_lab):
    ca = OriginCa(cf_client, cf_client.zone_id("example.test"))
    key_pem, csr = new_key_and_csr("ecdsa", ["example.test"])
    cert = x509.load_pem_x509_certificate(ca.issue(["example.test"], csr, "origin-ecc", 7)["certificate"].encode())
    with pytest.raises(CloudflareError, match="did not issue"):
        ca.root_for(cloudflare_lab.origin_ca_root_url.replace("rsa", "none"), cert)
