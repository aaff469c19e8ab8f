"""Third-party Cloudflare clients, as published on PyPI, against the mock API over HTTPS.

- dns-lexicon's Cloudflare provider. Its API endpoint is no option: the provider sets the instance attribute
  `api_endpoint` to api.cloudflare.com in `__init__`, so the test sets that attribute on the instance (its code
  is not changed). The provider class is used directly: lexicon's Client guesses the zone with tldextract,
  which fetches the public suffix list from the internet and does not know the lab's `.test` zone.
- certbot with certbot-dns-cloudflare issues a certificate from pebble by DNS-01. The plugin builds the
  `cloudflare` SDK client, which reads its base URL from CLOUDFLARE_BASE_URL (cloudflare-python `_client.py`)
  and, through httpx, trusts SSL_CERT_FILE; certbot's ACME client (requests) trusts REQUESTS_CA_BUNDLE.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys

import pytest
import requests
from cryptography import x509

from tests.lab.mock_cloudflare.seed import LAB_EMAIL, LAB_GLOBAL_KEY, LAB_TOKEN, ZONE_ID, ZONE_NAME

# lexicon 3.25 warns about its own deprecated modules whenever something inspects them.
pytestmark = pytest.mark.filterwarnings("ignore:Module lexicon:DeprecationWarning")


def records(lab):
    return sorted((r["type"], r["name"], r["content"]) for r in lab.state()["dns_records"].get(ZONE_ID, {}).values())


@pytest.fixture
def lexicon(cloudflare_lab, monkeypatch):
    from lexicon.config import ConfigResolver

    provider_class = importlib.import_module("lexicon._private.providers.cloudflare").Provider
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", cloudflare_lab.ca_path)

    def _provider(**auth):
        config = ConfigResolver().with_dict(
            {
                "provider_name": "cloudflare",
                "domain": ZONE_NAME,
                "ttl": 300,
                "cloudflare": auth or {"auth_token": LAB_TOKEN},
            }
        )
        provider = provider_class(config)
        provider.api_endpoint = cloudflare_lab.api_base_url
        provider.authenticate()
        return provider

    return _provider


def test_lexicon_creates_lists_updates_and_deletes_a_and_txt(lexicon, cloudflare_lab):
    dns = lexicon()
    assert dns.domain_id == ZONE_ID
    assert dns.create_record("A", "nas", "100.128.77.2") is True
    assert dns.create_record("TXT", "_acme-challenge", "token-one") is True
    assert dns.create_record("TXT", "_acme-challenge", "token-one") is True, "81058 is taken as success"
    assert records(cloudflare_lab) == [
        ("A", "nas.example.test", "100.128.77.2"),
        ("TXT", "_acme-challenge.example.test", "token-one"),
    ]

    listed = dns.list_records("TXT", "_acme-challenge")
    assert [(r["name"], r["content"], r["ttl"]) for r in listed] == [("_acme-challenge.example.test", "token-one", 300)]
    assert dns.list_records("TXT", "_acme-challenge", "token-two") == []

    assert dns.update_record(None, "A", "nas", "100.128.77.3") is True
    assert dns.update_record(listed[0]["id"], "TXT", "_acme-challenge", "token-two") is True
    assert records(cloudflare_lab) == [
        ("A", "nas.example.test", "100.128.77.3"),
        ("TXT", "_acme-challenge.example.test", "token-two"),
    ]
    assert dns.delete_record(None, "TXT", "_acme-challenge", "token-two") is True
    with pytest.raises(requests.HTTPError) as err:  # by id, once it is gone: Cloudflare's 81044
        dns.delete_record(listed[0]["id"])
    assert err.value.response.status_code == 404 and err.value.response.json()["errors"][0]["code"] == 81044
    assert dns.delete_record(None, "A", "nas") is True
    assert records(cloudflare_lab) == []


def test_lexicon_with_the_global_api_key(lexicon, cloudflare_lab):
    dns = lexicon(auth_username=LAB_EMAIL, auth_token=LAB_GLOBAL_KEY)
    assert dns.create_record("TXT", "_acme-challenge.nas", "by-key") is True
    assert records(cloudflare_lab) == [("TXT", "_acme-challenge.nas.example.test", "by-key")]
    with pytest.raises(requests.HTTPError) as err:
        lexicon(auth_username=LAB_EMAIL, auth_token="0" * 37)
    assert err.value.response.json()["errors"][0]["code"] == 9103


# -- certbot + certbot-dns-cloudflare through pebble ---------------------------------------------------------


def certbot(tmp_path, cloudflare_lab, acme_lab, *domains):
    credentials = tmp_path / "cloudflare.ini"
    credentials.write_text("dns_cloudflare_api_token = %s\n" % LAB_TOKEN)
    credentials.chmod(0o600)
    bundle = tmp_path / "trust.pem"
    bundle.write_text(open(cloudflare_lab.ca_path).read() + open(acme_lab.ca_path).read())
    env = dict(
        os.environ,
        CLOUDFLARE_BASE_URL=cloudflare_lab.api_base_url,
        SSL_CERT_FILE=str(bundle),
        REQUESTS_CA_BUNDLE=str(bundle),
    )
    argv = [
        os.path.join(os.path.dirname(sys.executable), "certbot"),
        "certonly",
        "--non-interactive",
        "--agree-tos",
        "--register-unsafely-without-email",
        "--server",
        acme_lab.directory_url,
        "--config-dir",
        str(tmp_path / "etc"),
        "--work-dir",
        str(tmp_path / "work"),
        "--logs-dir",
        str(tmp_path / "logs"),
        "--cert-name",
        "lab",
        "--authenticator",
        "dns-cloudflare",
        "--dns-cloudflare-credentials",
        str(credentials),
        "--dns-cloudflare-propagation-seconds",
        "1",
    ]
    for domain in domains:
        argv += ["-d", domain]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=300, check=False)


def test_certbot_issues_a_name_and_a_wildcard_by_dns01(tmp_path, cloudflare_lab, acme_lab):
    cloudflare_lab.configure(challtestsrv_url=acme_lab.challtestsrv_url)
    run = certbot(tmp_path, cloudflare_lab, acme_lab, ZONE_NAME, "*." + ZONE_NAME)
    assert run.returncode == 0, run.stdout + run.stderr
    live = tmp_path / "etc" / "live" / "lab"
    cert = x509.load_pem_x509_certificate((live / "cert.pem").read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sorted(sans.get_values_for_type(x509.DNSName)) == ["*.example.test", "example.test"]
    chain = x509.load_pem_x509_certificates((live / "fullchain.pem").read_bytes())
    chain[0].verify_directly_issued_by(chain[1])
    root = x509.load_pem_x509_certificate(acme_lab.issuing_roots().encode())
    chain[-1].verify_directly_issued_by(root)

    # Both challenges were TXT records of one name, created through the API and cleaned up again.
    posts = [c for c in cloudflare_lab.calls("POST", "/zones/:id/dns_records") if c["status"] == 200]
    deletes = [c for c in cloudflare_lab.calls("DELETE", "/zones/:id/dns_records/:id") if c["status"] == 200]
    assert len(posts) == 2 and len(deletes) == 2
    assert records(cloudflare_lab) == []
    assert acme_lab.txt("_acme-challenge." + ZONE_NAME) == []


def test_certbot_fails_when_the_challenge_never_reaches_dns(tmp_path, cloudflare_lab, acme_lab):
    # Without forwarding the records exist only in the mock, so pebble sees no TXT and refuses: the
    # success above depends on the records certbot created through the mock.
    run = certbot(tmp_path, cloudflare_lab, acme_lab, "nas." + ZONE_NAME)
    assert run.returncode != 0
    assert "No TXT records found for DNS challenge" in run.stdout + run.stderr  # pebble's answer
    assert records(cloudflare_lab) == [], "certbot cleans up after a failed challenge too"
