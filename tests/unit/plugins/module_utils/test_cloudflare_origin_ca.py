"""cloudflare_origin_ca against the mock API: issue from a local CSR, reuse, revoke, and the root."""

from __future__ import annotations

import datetime
import os
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_client import CloudflareError
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_origin_ca import OriginCa, new_key_and_csr, usable
from ansible_collections.homelab.nas.plugins.module_utils.keyed_cache import KeyedCache
from tests.lab import pki

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


# -- the root, kept on disk by its URL ----------------------------------------------------------------------------


@pytest.fixture
def issued(cf_client):
    ca = OriginCa(cf_client, cf_client.zone_id("example.test"))
    key_pem, csr = new_key_and_csr("rsa", HOSTS)
    return x509.load_pem_x509_certificate(ca.issue(HOSTS, csr, "origin-rsa", 30)["certificate"].encode())


def root_fetches(lab):
    return [c for c in lab.calls("GET") if c["method"].startswith("/static/")]


def test_the_root_is_fetched_once_then_read_from_the_cache(cf_client, cloudflare_lab, issued, tmp_path):
    cache = KeyedCache(str(tmp_path / "cache"), ".originroot.json")
    url = cloudflare_lab.origin_ca_root_url
    first = OriginCa(cf_client, "zone", root_cache=cache).root_for(url, issued)
    assert len(root_fetches(cloudflare_lab)) == 1
    assert cache.get(url) == {"pem": first}
    (entry,) = (tmp_path / "cache").iterdir()
    assert stat.S_IMODE(os.stat(tmp_path / "cache").st_mode) == 0o700 and stat.S_IMODE(entry.stat().st_mode) == 0o600
    cloudflare_lab.clear_log()
    assert OriginCa(cf_client, "zone", root_cache=cache).root_for(url, issued) == first
    assert cloudflare_lab.calls() == []


def _other_ca():
    key = pki.rsa_key()
    return pki.pem(pki.issue("Another CA", key, ca=True, days=365)).decode()


@pytest.mark.parametrize("kind", ["corrupt", "not a PEM", "a leaf, not a CA", "another CA", "expired"])
def test_a_cached_root_that_cannot_serve_is_fetched_again(cf_client, cloudflare_lab, issued, tmp_path, kind):
    cache = KeyedCache(str(tmp_path / "cache"), ".originroot.json")
    url = cloudflare_lab.origin_ca_root_url
    good = OriginCa(cf_client, "zone").root_for(url, issued)
    now = None
    if kind == "corrupt":
        cache.put(url, {"pem": good})
        next((tmp_path / "cache").iterdir()).write_text('{"pem": "-----BEGIN CERT')
    elif kind == "not a PEM":
        cache.put(url, {"pem": "hello"})
    elif kind == "a leaf, not a CA":
        cache.put(url, {"pem": issued.public_bytes(serialization.Encoding.PEM).decode()})
    elif kind == "another CA":
        cache.put(url, {"pem": _other_ca()})
    else:  # Cloudflare's root itself, once past its validity
        cache.put(url, {"pem": good})
        now = x509.load_pem_x509_certificate(good.encode()).not_valid_after_utc + datetime.timedelta(days=1)
    cloudflare_lab.clear_log()
    assert OriginCa(cf_client, "zone", root_cache=cache).root_for(url, issued, now=now) == good
    assert len(root_fetches(cloudflare_lab)) == 1
    assert cache.get(url) == {"pem": good}


def test_another_url_is_another_entry(cf_client, cloudflare_lab, issued, tmp_path):
    cache = KeyedCache(str(tmp_path / "cache"), ".originroot.json")
    url = cloudflare_lab.origin_ca_root_url
    OriginCa(cf_client, "zone", root_cache=cache).root_for(url, issued)
    with pytest.raises(CloudflareError, match="did not issue"):
        OriginCa(cf_client, "zone", root_cache=cache).root_for(url.replace("rsa", "none"), issued)
    assert cache.get(url.replace("rsa", "none")) is None
