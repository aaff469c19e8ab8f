"""acme_certificate against Debian's pebble (a real ACME CA) by DNS-01 through the mock Cloudflare.

The mock forwards `_acme-challenge` TXT records to pebble-challtestsrv, whose DNS server pebble asks
(tests/lab/acme.py). Modules run in-process (tests/unit/plugins/modules/runner.py); every test orders at most
two certificates, so the file stays within seconds.
"""

from __future__ import annotations

import json
import os
import stat

import pytest
import requests
from cryptography import x509
from cryptography.x509.oid import NameOID

from ansible_collections.homelab.nas.plugins.modules import acme_certificate, dsm_certificate
from tests.lab import pki
from tests.lab.acme import AcmeLab
from tests.lab.mock_cloudflare.seed import LAB_TOKEN, ZONE_ID, ZONE_NAME
from tests.lab.mock_dsm.seed import LAB_PASSWORD
from tests.system.test_playbook_runs import ansible
from tests.unit.plugins.modules.runner import run_module

NAMES = [ZONE_NAME, "*." + ZONE_NAME, "nas." + ZONE_NAME]
DNS_RECORDS = "/zones/:id/dns_records"


@pytest.fixture(scope="module")
def noisy_acme_lab(tmp_path_factory):
    """A second pebble at its default nonce rejection (5 %) offering one alternative chain."""
    lab = AcmeLab(str(tmp_path_factory.mktemp("acme-noisy")), nonce_reject=5, alternate_roots=1)
    yield lab
    lab.stop()


def args_for(tmp_path, cloudflare_lab, lab, **extra):
    bundle = tmp_path / "acme-ca.pem"
    bundle.write_text(open(lab.ca_path).read())
    args = cloudflare_lab.module_args(
        hostnames=NAMES,
        acme_directory=lab.directory_url,
        acme_ca_path=str(bundle),
        account_key_path=str(tmp_path / "account.key"),
        account_email="admin@" + ZONE_NAME,
        terms_agreed=True,
        private_key_path=str(tmp_path / "nas.key"),
        certificate_path=str(tmp_path / "nas.crt"),
        chain_path=str(tmp_path / "nas.chain.pem"),
        fullchain_path=str(tmp_path / "nas.fullchain.pem"),
        propagation_seconds=0,
        acme_timeout=60,
    )
    args.update(extra)
    return args


@pytest.fixture
def run(capsys):
    def _run(args, check_mode=False, diff=True):
        return run_module(acme_certificate, args, capsys, check_mode=check_mode, diff=diff)

    return _run


def txt_records(cloudflare_lab):
    return [r for r in cloudflare_lab.state()["dns_records"].get(ZONE_ID, {}).values() if r["type"] == "TXT"]


def files_of(tmp_path):
    """Every file the task may have touched (lock files aside), name -> bytes."""
    return {
        name: (tmp_path / name).read_bytes()
        for name in sorted(os.listdir(tmp_path))
        if not name.endswith(".lock") and name != "acme-ca.pem" and (tmp_path / name).is_file()
    }


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_a_wildcard_and_names_are_issued_reused_and_renewed_inside_the_window_only(
    tmp_path, cloudflare_lab, acme_lab, run
):
    cloudflare_lab.configure(challtestsrv_url=acme_lab.challtestsrv_url)
    args = args_for(tmp_path, cloudflare_lab, acme_lab)

    planned = run(args, check_mode=True)
    assert (planned["changed"], planned["ordered"], planned["certificate"]) == (True, True, None)
    assert planned["reason"] == "no certificate at certificate_path"
    assert files_of(tmp_path) == {}, "check mode writes nothing"

    first = run(args)
    assert first["changed"] is True and first["ordered"] is True, first
    leaf = x509.load_pem_x509_certificate((tmp_path / "nas.crt").read_bytes())
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = sorted(san.get_values_for_type(x509.DNSName))
    assert names == sorted(NAMES)
    assert first["hostnames"] == sorted(NAMES) and first["diff"]["after"]["hostnames"] == sorted(NAMES)
    assert first["certificate"] == (tmp_path / "nas.crt").read_text()
    assert first["fullchain"] == (tmp_path / "nas.fullchain.pem").read_text() == first["certificate"] + first["chain"]
    root = x509.load_pem_x509_certificate(acme_lab.issuing_roots().encode())
    chain = x509.load_pem_x509_certificates(first["chain"].encode())
    assert chain[-1].issuer == root.subject, "the chain ends under pebble's issuing root"
    assert first["days_left"] > 30 and first["not_after"] == first["diff"]["after"]["not_after"]
    assert (mode(tmp_path / "account.key"), mode(tmp_path / "nas.key")) == (0o600, 0o600)
    assert {mode(tmp_path / n) for n in ("nas.crt", "nas.chain.pem", "nas.fullchain.pem")} == {0o644}
    assert txt_records(cloudflare_lab) == [] and acme_lab.txt("_acme-challenge." + ZONE_NAME) == []
    assert "BEGIN PRIVATE KEY" not in repr(first)

    cloudflare_lab.clear_log()
    before = files_of(tmp_path)
    again = run(args)
    assert (again["changed"], again["ordered"], again["reason"]) == (False, False, None)
    assert again["not_after"] == first["not_after"] and again["certificate"] == first["certificate"]
    assert cloudflare_lab.calls() == [], "a reused certificate needs neither Cloudflare nor the CA"
    assert files_of(tmp_path) == before

    window = dict(args, renew_before_days=100000)
    would = run(window, check_mode=True)
    assert (would["changed"], would["ordered"]) == (True, True) and "renew_before_days" in would["reason"]
    assert any("would be renewed" in str(w) for w in would.get("warnings", []))
    assert files_of(tmp_path) == before

    renewed = run(window)
    assert renewed["ordered"] is True and renewed["certificate"] != first["certificate"]
    assert (tmp_path / "nas.key").read_bytes() == before["nas.key"], "the key is kept across renewals"
    assert (tmp_path / "account.key").read_bytes() == before["account.key"]
    assert renewed["diff"]["before"]["not_after"] == first["not_after"]
    assert txt_records(cloudflare_lab) == []

    rekeyed = run(dict(args, key_type="ecdsa"))
    assert rekeyed["ordered"] is True and "key_type" in rekeyed["reason"]
    assert b"BEGIN PRIVATE KEY" in (tmp_path / "nas.key").read_bytes()
    assert (tmp_path / "nas.key").read_bytes() != before["nas.key"]


def test_an_unauthorized_order_leaves_no_txt_record_and_no_file_changed(tmp_path, cloudflare_lab, acme_lab, run):
    # challtestsrv is not configured: the records reach the mock's zone, never pebble's DNS.
    old_leaf = pki.issue("old", pki.rsa_key(), sans=["old." + ZONE_NAME])
    (tmp_path / "nas.crt").write_bytes(pki.pem(old_leaf))
    before = files_of(tmp_path)
    result = run(args_for(tmp_path, cloudflare_lab, acme_lab, hostnames=["nas." + ZONE_NAME]))
    assert result.get("failed") and result["error_code"] == "unauthorized", result
    assert "_acme-challenge" in result["msg"]
    posts = cloudflare_lab.calls("POST", DNS_RECORDS)
    assert len(posts) == 1 and len(cloudflare_lab.calls("DELETE", DNS_RECORDS + "/:id")) == 1
    assert txt_records(cloudflare_lab) == []
    after = files_of(tmp_path)
    assert after.pop("account.key") and after == before, "only the account key is new; the old files stand"
    assert not [n for n in os.listdir(tmp_path) if n.startswith(".tmp-")]


def test_a_refused_txt_write_removes_the_records_already_made(tmp_path, cloudflare_lab, acme_lab, run):
    cloudflare_lab.configure(challtestsrv_url=acme_lab.challtestsrv_url)
    args = args_for(tmp_path, cloudflare_lab, acme_lab)
    # Cloudflare refuses the first TXT write (an injected 403): the order stops before any challenge is answered.
    cloudflare_lab.fault(fail_next={"api": "POST", "method": DNS_RECORDS, "status": 403, "code": 10000, "count": 1})
    result = run(args)
    assert result.get("failed") and "10000" in result["msg"], result
    assert txt_records(cloudflare_lab) == [] and acme_lab.txt("_acme-challenge." + ZONE_NAME) == []
    assert sorted(files_of(tmp_path)) == ["account.key"], "no key or certificate file is written"

    # Refused after one record was made: it is deleted again.
    cloudflare_lab.reset()
    cloudflare_lab.configure(challtestsrv_url=acme_lab.challtestsrv_url)
    made = []
    original = acme_certificate.CloudflareDns.create

    def create_then_refuse(self, record):
        if made:
            raise acme_certificate.HomelabError("POST dns_records failed: 10000 refused by the test")
        made.append(original(self, record))
        return made[-1]

    acme_certificate.CloudflareDns.create = create_then_refuse
    try:
        result = run(args)
    finally:
        acme_certificate.CloudflareDns.create = original
    assert result.get("failed") and "refused by the test" in result["msg"]
    assert len(made) == 1 and txt_records(cloudflare_lab) == []
    assert len(cloudflare_lab.calls("DELETE", DNS_RECORDS + "/:id")) == 1
    assert sorted(files_of(tmp_path)) == ["account.key"]


def test_records_a_killed_run_left_are_removed_and_hand_made_ones_kept(tmp_path, cloudflare_lab, acme_lab, run):
    cloudflare_lab.configure(challtestsrv_url=acme_lab.challtestsrv_url)
    name = "_acme-challenge.nas." + ZONE_NAME
    api = requests.Session()
    api.headers["Authorization"] = "Bearer " + LAB_TOKEN
    for content, comment in (("left-by-a-killed-run", acme_certificate.TXT_COMMENT), ("hand-made", "mine")):
        made = api.post(
            "%s/zones/%s/dns_records" % (cloudflare_lab.api_base_url, ZONE_ID),
            json=dict(type="TXT", name=name, content=content, ttl=60, comment=comment),
            verify=cloudflare_lab.ca_path,
        )
        assert made.ok, made.text
    result = run(args_for(tmp_path, cloudflare_lab, acme_lab, hostnames=["nas." + ZONE_NAME]))
    assert result["ordered"] is True, result
    assert [(r["name"], r["content"]) for r in txt_records(cloudflare_lab)] == [(name, "hand-made")]


def test_issued_then_renewed_certificate_replaces_dsms_in_place(
    tmp_path, cloudflare_lab, acme_lab, dsm_lab, run, capsys
):
    cloudflare_lab.configure(challtestsrv_url=acme_lab.challtestsrv_url)
    args = args_for(tmp_path, cloudflare_lab, acme_lab, hostnames=["nas." + ZONE_NAME])
    first = run(args)
    assert first["ordered"] is True, first

    def to_dsm(result):
        task = dsm_lab.client_args(
            session_cache_dir=str(tmp_path / "cache"),
            description="letsencrypt",
            certificate=result["certificate"],
            private_key=args["private_key_path"],
            chain=result["chain"],
        )
        return run_module(dsm_certificate, task, capsys, diff=True)

    imported = to_dsm(first)
    assert imported["changed"] is True, imported
    renewed = run(dict(args, renew_before_days=100000))
    assert renewed["ordered"] is True
    replaced = to_dsm(renewed)
    assert replaced["changed"] is True and replaced["certificate"]["id"] == imported["certificate"]["id"]
    assert replaced["diff"]["before"]["fingerprint_sha256"] != replaced["diff"]["after"]["fingerprint_sha256"]
    assert [c["desc"] for c in dsm_lab.state()["certificates"].values()].count("letsencrypt") == 1


def test_default_nonce_rejection_and_a_preferred_alternative_chain(tmp_path, cloudflare_lab, noisy_acme_lab, run):
    cloudflare_lab.configure(challtestsrv_url=noisy_acme_lab.challtestsrv_url)
    alternative = x509.load_pem_x509_certificate(noisy_acme_lab.issuing_roots(1).encode())
    wanted_cn = alternative.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    result = run(args_for(tmp_path, cloudflare_lab, noisy_acme_lab, preferred_chain=wanted_cn, key_type="ecdsa"))
    assert result["ordered"] is True, result
    chain = x509.load_pem_x509_certificates(result["chain"].encode())
    assert chain[-1].issuer == alternative.subject, "the chain under the preferred root was chosen"
    assert txt_records(cloudflare_lab) == []

    missing = run(args_for(tmp_path, cloudflare_lab, noisy_acme_lab, preferred_chain="No Such CA", regenerate_key=True))
    assert missing["ordered"] is True
    assert any("No Such CA" in str(w) for w in missing.get("warnings", []))
    default_root = x509.load_pem_x509_certificate(noisy_acme_lab.issuing_roots(0).encode())
    assert x509.load_pem_x509_certificates(missing["chain"].encode())[-1].issuer == default_root.subject


def test_the_tls_role_gets_imports_and_renews_a_letsencrypt_dns_certificate(
    tmp_path, cloudflare_lab, acme_lab, dsm_lab
):
    cloudflare_lab.configure(challtestsrv_url=acme_lab.challtestsrv_url)
    lab = dict(
        dir=str(tmp_path),
        dsm_port=dsm_lab.https_port,
        dsm_password=LAB_PASSWORD,
        dsm_ca_path=dsm_lab.ca_path,
        cloudflare_token=LAB_TOKEN,
        cloudflare_url=cloudflare_lab.api_base_url,
        cloudflare_ca_path=cloudflare_lab.ca_path,
        acme_directory=acme_lab.directory_url,
        acme_ca_path=acme_lab.ca_path,
        renew_before_days=30,
    )

    def play(**overrides):
        run = ansible(
            "ansible-playbook",
            "-e",
            json.dumps({"lab": dict(lab, **overrides)}),
            "tests/system/playbooks/tls_letsencrypt.yml",
        )
        assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
        return json.loads((tmp_path / "result.json").read_text())

    first = play()
    assert first["acme"]["ordered"] is True and first["dsm"]["changed"] is True
    # The keys' directory did not exist: the role made it, for this user only.
    assert stat.S_IMODE(os.stat(tmp_path / "secrets").st_mode) == 0o700
    imported = first["dsm"]["certificate"]
    assert imported["description"] == "letsencrypt" and "DSM Desktop Service" in imported["services"]
    again = play()
    assert again["acme"]["changed"] is False and again["dsm"]["changed"] is False
    renewed = play(renew_before_days=100000)
    assert renewed["acme"]["ordered"] is True and renewed["dsm"]["changed"] is True
    assert renewed["dsm"]["certificate"]["id"] == imported["id"], "replaced in place"
    assert txt_records(cloudflare_lab) == []
