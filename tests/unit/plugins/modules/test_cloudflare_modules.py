"""The Cloudflare modules end to end against the mock API (in-process modules, real HTTPS)."""

from __future__ import annotations

import os
import stat

import pytest
from cryptography import x509

from ansible_collections.homelab.nas.plugins.modules import (
    cloudflare_dns_record,
    cloudflare_dns_records,
    cloudflare_ips_info,
    cloudflare_origin_certificate,
    cloudflare_zone_settings,
)
from tests.lab import pki
from tests.lab.mock_cloudflare.seed import ZONE_ID
from tests.unit.plugins.modules.runner import run_module

SEED_SETTINGS = {
    "ssl_mode": "Full (strict)",
    "minimum_tls_version": "1.2",
    "tls_1_3": "on",
    "opportunistic_encryption": True,
    "automatic_https_rewrites": True,
    "always_use_https": True,
    "authenticated_origin_pulls": True,
}
SEED_HSTS = {"max_age": 15552000, "include_subdomains": True, "nosniff": True}


@pytest.fixture
def run(cloudflare_lab, capsys):
    def _run(module, check_mode=False, diff=True, **args):
        return run_module(module, cloudflare_lab.module_args(**args), capsys, check_mode=check_mode, diff=diff)

    return _run


def settings_of(lab):
    return {k: v["value"] for k, v in lab.state()["settings"][ZONE_ID].items()}


def writes(lab):
    return [c for c in lab.calls() if c["api"] in ("POST", "PUT", "PATCH", "DELETE")]


# -- zone settings -------------------------------------------------------------------


def test_seed_settings_applied_in_one_write_then_noop_is_one_read(run, cloudflare_lab):
    first = run(cloudflare_zone_settings, settings=SEED_SETTINGS, hsts=SEED_HSTS)
    assert first["changed"] is True
    values = settings_of(cloudflare_lab)
    assert values["ssl"] == "strict" and values["min_tls_version"] == "1.2" and values["tls_client_auth"] == "on"
    assert values["always_use_https"] == "on" and values["automatic_https_rewrites"] == "on"
    assert values["security_header"]["strict_transport_security"] == {
        "enabled": True,
        "max_age": 15552000,
        "include_subdomains": True,
        "preload": False,
        "nosniff": True,
    }
    assert [c["method"] for c in writes(cloudflare_lab)] == ["/zones/:id/settings"]

    cloudflare_lab.clear_log()
    second = run(cloudflare_zone_settings, settings=SEED_SETTINGS, hsts=SEED_HSTS)
    assert second["changed"] is False and second["diff"]["before"] == second["diff"]["after"]
    assert len(cloudflare_lab.calls("GET", "/zones/:id/settings")) == 1
    assert writes(cloudflare_lab) == []


def test_check_mode_reports_the_changes_only(run, cloudflare_lab):
    before = settings_of(cloudflare_lab)
    result = run(cloudflare_zone_settings, check_mode=True, settings={"ssl": "strict", "tls_1_3": "on"})
    assert result["changed"] is True and result["changed_settings"] == ["ssl"]
    assert result["diff"]["before"]["ssl"] == "full" and result["diff"]["after"]["ssl"] == "strict"
    assert settings_of(cloudflare_lab) == before and writes(cloudflare_lab) == []


def test_falls_back_to_one_request_per_setting_without_the_bulk_call(run, cloudflare_lab):
    cloudflare_lab.configure(bulk_settings=False)
    result = run(cloudflare_zone_settings, settings={"ssl": "strict", "always_use_https": True})
    assert result["changed"] is True
    assert sorted(c["method"] for c in writes(cloudflare_lab) if c["status"] == 200) == [
        "/zones/:id/settings/always_use_https",
        "/zones/:id/settings/ssl",
    ]
    assert settings_of(cloudflare_lab)["ssl"] == "strict"


@pytest.mark.parametrize(
    "args,fragment",
    [
        ({"settings": {"sslmode": "strict"}}, "sslmode is not a setting of zone example.test"),
        ({"settings": {"ssl": "fullstrict"}}, "ssl: 'fullstrict' is not an SSL/TLS encryption mode"),
        ({"hsts": {"max_age": 15552000, "include_subdomains": True, "preload": True}}, "preload needs max_age"),
        ({"settings": {"waf": "on"}}, "waf cannot be changed on this zone's plan"),
    ],
)
def test_bad_input_is_refused_and_nothing_changes(run, cloudflare_lab, args, fragment):
    before = settings_of(cloudflare_lab)
    result = run(cloudflare_zone_settings, **args)
    assert result["failed"] is True and fragment in result["msg"]
    assert settings_of(cloudflare_lab) == before and writes(cloudflare_lab) == []


def test_rate_limit_storm_is_waited_out(run, cloudflare_lab):
    cloudflare_lab.fault(http_error_next={"count": 2, "status": 429, "retry_after": 1})
    result = run(cloudflare_zone_settings, settings={"ssl": "strict"})
    assert result["changed"] is True and settings_of(cloudflare_lab)["ssl"] == "strict"


def test_rate_limit_storm_past_the_budget_fails_with_nothing_half_applied(run, cloudflare_lab):
    before = settings_of(cloudflare_lab)
    cloudflare_lab.fault(http_error_next={"count": 6, "status": 429, "retry_after": 1, "api": "PATCH"})
    result = run(cloudflare_zone_settings, settings=SEED_SETTINGS, hsts=SEED_HSTS)
    assert result["failed"] is True and "rate limited" in result["msg"] and result["status"] == 429
    assert settings_of(cloudflare_lab) == before


# -- DNS records ---------------------------------------------------------------------------


def records(lab):
    return sorted(
        (r["type"], r["name"], r["content"], r["proxied"]) for r in lab.state()["dns_records"].get(ZONE_ID, {}).values()
    )


def test_dns_record_lifecycle(run, cloudflare_lab):
    first = run(cloudflare_dns_record, name="nas", content="100.128.77.2", comment="homelab")
    assert first["changed"] is True and first["record"]["name"] == "nas.example.test"
    assert records(cloudflare_lab) == [("A", "nas.example.test", "100.128.77.2", True)]
    assert (
        run(cloudflare_dns_record, name="nas.example.test", content="100.128.77.2", comment="homelab")["changed"]
        is False
    )
    moved = run(cloudflare_dns_record, name="nas", content="100.128.77.3", comment="homelab")
    assert moved["changed"] is True and moved["diff"]["before"]["content"] == "100.128.77.2"
    assert moved["record"]["id"] == first["record"]["id"]
    assert run(cloudflare_dns_record, name="nas", state="absent")["changed"] is True
    assert records(cloudflare_lab) == []


def test_dns_records_remove_only_our_undeclared_records_after_the_writes(run, cloudflare_lab):
    # Made by hand (no comment, or a comment not carrying the mark) and by another tool: never removed.
    run(cloudflare_dns_record, name="mail", content="100.128.77.9")
    run(cloudflare_dns_record, name="blog", content="100.128.77.9", comment="my homelab.nas: blog")
    photos, media = dict(name="photos", content="100.128.77.2", port=443), dict(name="media", content="100.128.77.2")
    first = run(cloudflare_dns_records, records=[photos, media], exclusive=True)
    assert first["changed"] is True and first["deleted"] == []
    assert [r["comment"] for r in first["records"]] == ["homelab.nas: photos", "homelab.nas: media"]
    cloudflare_lab.clear_log()
    assert run(cloudflare_dns_records, records=[photos, media], exclusive=True)["changed"] is False
    assert writes(cloudflare_lab) == []  # and one list call for the whole zone
    assert len(cloudflare_lab.calls("GET", "/zones/:id/dns_records")) == 1

    before = cloudflare_lab.state()
    moved = dict(photos, content="100.128.77.3")
    planned = run(cloudflare_dns_records, check_mode=True, records=[moved], exclusive=True)
    assert planned["changed"] is True and planned["deleted"] == ["A media.example.test"]
    assert (
        "A media.example.test" in planned["diff"]["before"] and "A media.example.test" not in planned["diff"]["after"]
    )
    assert cloudflare_lab.state() == before
    cloudflare_lab.clear_log()
    done = run(cloudflare_dns_records, records=[moved], exclusive=True)
    assert done["changed"] is True and done["records"][0]["content"] == "100.128.77.3"
    assert [c["api"] for c in writes(cloudflare_lab)] == ["PUT", "DELETE"]  # the update before the delete
    assert records(cloudflare_lab) == [
        ("A", "blog.example.test", "100.128.77.9", True),
        ("A", "mail.example.test", "100.128.77.9", True),
        ("A", "photos.example.test", "100.128.77.3", True),
    ]
    # Without exclusive nothing undeclared goes, ours included.
    assert run(cloudflare_dns_records, records=[], exclusive=False)["changed"] is False


def test_dns_records_failing_delete_leaves_the_declared_records_and_the_rerun_converges(run, cloudflare_lab):
    photos, media = dict(name="photos", content="100.128.77.2"), dict(name="media", content="100.128.77.2")
    run(cloudflare_dns_records, records=[photos, media], exclusive=True)
    cloudflare_lab.fault(http_error_next={"count": 1, "status": 500, "api": "DELETE"})
    docs = dict(name="docs", content="100.128.77.2")
    failed = run(cloudflare_dns_records, records=[photos, docs], exclusive=True)
    assert failed["failed"]
    # The new record was written before the delete failed: the published set only ever grew.
    names = [r[1] for r in records(cloudflare_lab)]
    assert names == ["docs.example.test", "media.example.test", "photos.example.test"]
    assert run(cloudflare_dns_records, records=[photos, docs], exclusive=True)["deleted"] == ["A media.example.test"]
    assert run(cloudflare_dns_records, records=[photos, docs], exclusive=True)["changed"] is False


def test_dns_records_replace_an_a_record_by_a_cname_in_place_and_back(run, cloudflare_lab):
    # Cloudflare refuses a CNAME beside an A on one name (81053) and an A beside a CNAME (81054): creating first
    # cannot work and deleting first leaves the name unserved if the create fails. The record is overwritten.
    photos, web = dict(name="photos", content="100.128.77.2"), dict(name="web", content="100.128.77.2")
    first = run(cloudflare_dns_records, records=[photos, web], exclusive=True)
    web_id = next(r["id"] for r in first["records"] if r["name"] == "web.example.test")
    alias = dict(name="web", type="CNAME", content="photos.example.test")
    planned = run(cloudflare_dns_records, check_mode=True, diff=True, records=[photos, alias], exclusive=True)
    assert planned["changed"] is True and planned["deleted"] == ["A web.example.test"]
    assert "A web.example.test" in planned["diff"]["before"] and "CNAME web.example.test" in planned["diff"]["after"]
    cloudflare_lab.clear_log()
    done = run(cloudflare_dns_records, records=[photos, alias], exclusive=True)
    assert not done.get("failed"), done
    assert done["deleted"] == ["A web.example.test"]
    assert [c["api"] for c in writes(cloudflare_lab)] == ["PUT"]
    assert done["records"][1]["id"] == web_id and done["records"][1]["type"] == "CNAME"
    assert records(cloudflare_lab) == [
        ("A", "photos.example.test", "100.128.77.2", True),
        ("CNAME", "web.example.test", "photos.example.test", True),
    ]
    assert run(cloudflare_dns_records, records=[photos, alias], exclusive=True)["changed"] is False
    back = run(cloudflare_dns_records, records=[photos, web], exclusive=True)
    assert not back.get("failed") and back["deleted"] == ["CNAME web.example.test"], back
    assert [r[0] for r in records(cloudflare_lab)] == ["A", "A"]
    # Without exclusive the old record stays, so Cloudflare's refusal stands and names the conflict.
    refused = run(cloudflare_dns_records, records=[alias], exclusive=False)
    assert refused["failed"] and "81053" in refused["msg"], refused


def test_dns_records_refuse_a_record_declared_twice_before_any_request(run, cloudflare_lab):
    cloudflare_lab.clear_log()
    result = run(
        cloudflare_dns_records,
        records=[dict(name="nas", content="100.128.77.2"), dict(name="NAS.example.test.", content="100.128.77.3")],
    )
    assert result["failed"] and result["msg"].startswith("records[1]: A nas.example.test is already declared")
    bad = run(cloudflare_dns_records, records=[dict(name="nas", content="192.168.1.10")])
    assert bad["failed"] and bad["msg"].startswith("records[0].content: 192.168.1.10 is not a public address")
    assert cloudflare_lab.calls() == []


def test_dns_record_is_looked_up_with_the_documented_exact_name_filter(run, cloudflare_lab):
    run(cloudflare_dns_record, name="nas-backup", content="100.128.77.9")
    cloudflare_lab.clear_log()
    assert run(cloudflare_dns_record, name="nas", content="100.128.77.2")["changed"] is True
    lookups = cloudflare_lab.calls("GET", "/zones/:id/dns_records")
    assert lookups and all("name.exact" in c["query"] and "name" not in c["query"] for c in lookups)
    assert len(records(cloudflare_lab)) == 2


def test_dns_record_check_mode_and_port_warning(run, cloudflare_lab):
    result = run(cloudflare_dns_record, check_mode=True, name="@", content="100.128.77.2", port=5001)
    assert result["changed"] is True and result["record"]["name"] == "example.test"
    assert any("port 5001 is not one Cloudflare's proxy passes" in str(w) for w in result["warnings"])
    assert records(cloudflare_lab) == []
    quiet = run(cloudflare_dns_record, check_mode=True, name="@", content="100.128.77.2", port=443)
    assert not quiet.get("warnings")


def test_dns_record_bad_content_is_refused(run, cloudflare_lab):
    result = run(cloudflare_dns_record, name="nas", type="AAAA", content="100.128.77.2")
    assert result["failed"] is True and "not an IPv6 address" in result["msg"]
    assert cloudflare_lab.calls() == []


def test_a_proxied_record_for_a_private_address_is_refused_before_cloudflare_would(run, cloudflare_lab):
    result = run(cloudflare_dns_record, name="nas", content="192.168.1.10")
    assert result["failed"] is True and "not a public address" in result["msg"]
    assert cloudflare_lab.calls() == []
    direct = run(cloudflare_dns_record, name="nas", content="192.168.1.10", proxied=False)
    assert direct["changed"] is True


# -- Origin CA ------------------------------------------------------------------------------


@pytest.fixture
def origin(run, cloudflare_lab, tmp_path):
    def _origin(**args):
        args.setdefault("hostnames", ["example.test", "*.example.test"])
        args.setdefault("private_key_path", str(tmp_path / "origin.key"))
        args.setdefault("origin_ca_root_url", cloudflare_lab.origin_ca_root_url)
        return run(cloudflare_origin_certificate, **args)

    return _origin


def test_origin_certificate_issued_reused_and_revoked(origin, cloudflare_lab, tmp_path):
    first = origin(certificate_path=str(tmp_path / "origin.pem"))
    assert first["changed"] is True and first["id"]
    key_path = tmp_path / "origin.key"
    assert stat.S_IMODE(os.stat(key_path).st_mode) == 0o600
    assert "PRIVATE KEY" not in str(first)
    cert = x509.load_pem_x509_certificate(first["certificate"].encode())
    root = x509.load_pem_x509_certificate(first["chain"].encode())
    cert.verify_directly_issued_by(root)
    assert (tmp_path / "origin.pem").read_text() == first["certificate"]
    assert sorted(
        cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    ) == ["*.example.test", "example.test"]

    again = origin(certificate_path=str(tmp_path / "origin.pem"))
    assert again["changed"] is False and again["id"] == first["id"]
    assert len(cloudflare_lab.calls("POST", "/certificates")) == 1

    gone = origin(state="absent")
    assert gone["changed"] is True and gone["revoked"] == [first["id"]]
    assert cloudflare_lab.state()["certificates"][first["id"]]["revoked_at"]


def test_origin_certificate_noop_is_one_request_check_mode_and_diff_alike(
    origin, cloudflare_lab, tmp_path, monkeypatch
):
    # A cache of its own: the zone id and the Origin CA root are fetched by the first task only.
    monkeypatch.setenv("HOMELAB_NAS_CLOUDFLARE_CACHE_DIR", str(tmp_path / "cf-cache"))
    first = origin(certificate_path=str(tmp_path / "origin.pem"))
    assert first["changed"] is True and len(cloudflare_lab.calls("GET", "/static/origin_ca_rsa_root.pem")) == 1
    for check_mode in (False, True):
        cloudflare_lab.clear_log()
        again = origin(certificate_path=str(tmp_path / "origin.pem"), check_mode=check_mode)
        assert again["changed"] is False and again["chain"] == first["chain"], again
        assert again["diff"]["before"] == again["diff"]["after"]
        assert [(c["api"], c["method"]) for c in cloudflare_lab.calls()] == [("GET", "/certificates")]


def test_origin_certificate_renewed_near_expiry_or_without_its_key(origin, cloudflare_lab, tmp_path):
    first = origin(requested_validity=30, renew_before_days=29)
    assert first["changed"] is True, first
    renewed = origin(requested_validity=30, renew_before_days=29)
    assert renewed["changed"] is False, "30 days left is not within 29 days"
    renewed = origin(requested_validity=365, renew_before_days=31)
    assert renewed["changed"] is True and renewed["id"] != first["id"]
    (tmp_path / "origin.key").unlink()
    lost_key = origin(requested_validity=365)
    assert lost_key["changed"] is True and lost_key["id"] != renewed["id"]


def test_origin_certificate_never_overwrites_a_file_that_is_not_its_key(origin, cloudflare_lab, tmp_path):
    notes = tmp_path / "origin.key"
    notes.write_text("my notes, not a key\n")
    refused = origin()
    assert refused["failed"] is True and "holds no unencrypted PEM private key" in refused["msg"]
    assert notes.read_text() == "my notes, not a key\n" and cloudflare_lab.calls() == []


def test_origin_certificate_sets_aside_a_key_no_certificate_uses(origin, cloudflare_lab, tmp_path):
    # Someone else's key at private_key_path: a new key replaces it, the old one is kept beside it.
    other = pki.pem(pki.rsa_key()).decode()
    (tmp_path / "origin.key").write_text(other)
    result = origin()
    assert result["changed"] is True and result["key_backup"].startswith(str(tmp_path / "origin.key.replaced-"))
    assert open(result["key_backup"]).read() == other
    assert stat.S_IMODE(os.stat(result["key_backup"]).st_mode) == 0o600
    assert (tmp_path / "origin.key").read_text() != other
    assert any("moved to" in str(w) for w in result["warnings"])
    # Its own key is not set aside: not on the next run, nor when a new certificate replaces the old one.
    assert "key_backup" not in origin()
    wider = origin(hostnames=["example.test", "*.example.test", "nas.example.test"])
    assert wider["changed"] is True and "key_backup" not in wider


def test_origin_certificate_check_mode_writes_nothing(origin, cloudflare_lab, tmp_path):
    result = origin(check_mode=True)
    assert result["changed"] is True and result["certificate"] is None
    assert not (tmp_path / "origin.key").exists() and cloudflare_lab.state()["certificates"] == {}


@pytest.mark.parametrize(
    "args,fragment",
    [
        ({"key_type": "ecdsa"}, "DSM 6 does not accept ECDSA"),
        ({"hostnames": ["nas.other.test"]}, "nas.other.test not in the zone"),
        ({"requested_validity": 30, "renew_before_days": 30}, "renew_before_days: 30 must be"),
    ],
)
def test_origin_certificate_bad_input(origin, cloudflare_lab, args, fragment):
    result = origin(**args)
    assert result["failed"] is True and fragment in result["msg"]
    assert cloudflare_lab.calls() == []


def test_origin_certificate_ecdsa_when_not_for_dsm(origin, cloudflare_lab):
    result = origin(key_type="ecdsa", dsm_compatible=False, origin_ca_root_url=cloudflare_lab.origin_ca_root_url)
    assert result["changed"] is True
    assert cloudflare_lab.state()["certificates"][result["id"]]["request_type"] == "origin-ecc"


# -- IP ranges -------------------------------------------------------------------------------


def test_ip_ranges_are_collapsed(run, cloudflare_lab):
    result = run(cloudflare_ips_info, zone=None)
    assert "103.21.244.0/22" in result["ipv4"] and "103.21.244.0/23" not in result["ipv4"]
    assert result["ipv6"] == ["2400:cb00::/32", "2606:4700::/32", "2803:f800::/32"]
    assert result["all"] == result["ipv4"] + result["ipv6"] and result["changed"] is False


@pytest.mark.parametrize(
    "family,bad,fragment",
    [
        ("ipv4_cidrs", "0.0.0.0/0", "wider than /12"),
        ("ipv4_cidrs", "104.0.0.0/8", "wider than /12"),
        ("ipv4_cidrs", "192.168.1.0/24", "not a global unicast"),
        ("ipv4_cidrs", "100.64.0.0/16", "not a global unicast"),
        ("ipv4_cidrs", "224.0.0.0/24", "not a global unicast"),
        ("ipv6_cidrs", "::/0", "wider than /29"),
        ("ipv6_cidrs", "fd00::/32", "not a global unicast"),
        ("ipv6_cidrs", "2001:db8::/32", "not a global unicast"),
    ],
)
def test_ranges_that_would_widen_trust_are_refused(run, cloudflare_lab, family, bad, fragment):
    # They become the firewall's allow list, DSM's trusted proxies and nginx's set_real_ip_from.
    ips = {"ipv4_cidrs": ["173.245.48.0/20"], "ipv6_cidrs": ["2400:cb00::/32"]}
    ips[family] = ips[family] + [bad]
    cloudflare_lab.configure(ips=ips)
    result = run(cloudflare_ips_info, zone=None)
    assert result["failed"] is True and ("'%s'" % bad) in result["msg"] and fragment in result["msg"]
    assert "ipv4" not in result and "all" not in result


def test_a_corrupt_range_list_is_refused(run, cloudflare_lab):
    cloudflare_lab.configure(ips={"ipv4_cidrs": ["173.245.48.0/20", "not-a-network"], "ipv6_cidrs": ["2400:cb00::/32"]})
    result = run(cloudflare_ips_info, zone=None)
    assert result["failed"] is True and "'not-a-network' is not a network" in result["msg"]


# -- connection options ----------------------------------------------------------------


def test_a_plain_http_api_url_is_refused_before_the_token_is_sent(run, cloudflare_lab):
    plain = cloudflare_lab.api_base_url.replace("https://", "http://")
    cloudflare_lab.clear_log()
    result = run(cloudflare_ips_info, zone=None, api_base_url=plain)
    assert result["failed"] is True and result["msg"].startswith("api_base_url: ")
    assert "allow_insecure_http: true" in result["msg"] and "lab-cloudflare-token" not in result["msg"]
    assert cloudflare_lab.calls() == []


@pytest.mark.parametrize("timeout", [0, -3])
def test_a_timeout_that_cannot_work_is_named(run, cloudflare_lab, timeout):
    result = run(cloudflare_ips_info, zone=None, timeout=timeout)
    assert result["failed"] is True and result["msg"].startswith("timeout: %s seconds" % timeout)
