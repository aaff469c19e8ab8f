"""dsm_letsencrypt against the mock DSM's Let's Encrypt API, in-process: one request then reuse, check mode, diff,
HTTP-01's preconditions refused before any write (wildcard, a name not resolving, port 80, CGNAT), DSM's errors
5520-5530 each reported with its fix and never sent twice, and a request that times out not sent again."""

from __future__ import annotations

import time

import pytest

from ansible_collections.homelab.nas.plugins.module_utils import dsm_letsencrypt as le
from ansible_collections.homelab.nas.plugins.module_utils.dsm_certificates import LETSENCRYPT_API, LETSENCRYPT_ERRORS
from ansible_collections.homelab.nas.plugins.module_utils.dsm_client import DsmClient
from ansible_collections.homelab.nas.plugins.module_utils.dsm_errors import DsmError
from ansible_collections.homelab.nas.plugins.modules import dsm_letsencrypt
from tests.unit.plugins.modules.runner import run_module

NAMES = ["nas.example.test", "photos.example.test", "files.example.test"]
WAN = "203.0.113.7"  # the mock DSM's external address (SYNO.Core.DDNS.ExtIP) and the mock router's
ROUTER = dict(
    external_address=WAN,
    behind_cgnat=False,
    mappings=[dict(external_port=80, protocol="tcp", internal_port=80, internal_client="192.0.2.10", enabled=True)],
)


@pytest.fixture
def dns(monkeypatch):
    """The controller's resolver, as a table the test fills."""
    table = {name: [WAN] for name in NAMES}
    monkeypatch.setattr(le, "resolve", lambda name: table.get(name, []))
    return table


@pytest.fixture
def run(dsm_lab, capsys, tmp_path, dns):
    def _run(check_mode=False, diff=True, **args):
        base = dsm_lab.client_args(session_cache_dir=str(tmp_path / "cache"))
        base.update(dict(names=NAMES, email="admin@example.test", port_80_forwarded=True))
        base.update(args)
        return run_module(dsm_letsencrypt, base, capsys, check_mode=check_mode, diff=diff)

    return _run


def requests(lab):
    return [c for c in lab.calls(api=LETSENCRYPT_API) if c["method"] == "create"]


def issued(lab):
    return [c for c in lab.state()["certificates"].values() if c.get("letsencrypt")]


def test_requested_once_then_reused_with_the_names_in_another_order(run, dsm_lab):
    first = run(description="letsencrypt", as_default=True)
    assert first["changed"] is True and first["requested"] is True, first
    assert len(requests(dsm_lab)) == 1
    [entry] = issued(dsm_lab)
    assert entry["letsencrypt"]["domains"] == NAMES and entry["is_default"] is True and entry["desc"] == "letsencrypt"
    cert = first["certificate"]
    assert cert["names"] == NAMES and cert["default"] is True and cert["id"] == entry["id"]
    assert 88 <= cert["days_left"] <= 90 and cert["not_after"]
    assert first["preconditions"]["public_address"] == WAN
    assert first["preconditions"]["public_address_from"].startswith("DSM")
    assert first["preconditions"]["names"] == {name: [WAN] for name in NAMES}
    assert first["diff"] == {"before": {}, "after": {"names": NAMES, "description": "letsencrypt", "default": True}}

    dsm_lab.clear_log()
    again = run(names=[NAMES[0], NAMES[2], NAMES[1].upper() + "."], description="letsencrypt", as_default=True)
    assert again["changed"] is False and again["requested"] is False, again
    assert again["certificate"]["id"] == cert["id"] and again["preconditions"] is None
    assert requests(dsm_lab) == [] and len(issued(dsm_lab)) == 1
    assert again["diff"]["before"] == again["diff"]["after"]
    assert not [c for c in dsm_lab.calls() if c["http"] == "POST" and c["method"] != "login"]


def test_another_common_name_is_another_certificate(run, dsm_lab):
    run()
    swapped = run(names=[NAMES[1], NAMES[0]])
    assert swapped["requested"] is True and len(requests(dsm_lab)) == 2 and len(issued(dsm_lab)) == 2


def test_check_mode_says_it_would_request_and_writes_nothing(run, dsm_lab):
    before = dsm_lab.state()["certificates"]
    planned = run(check_mode=True, as_default=True)
    assert planned["changed"] is True and planned["requested"] is True and planned["certificate"] is None
    assert planned["diff"]["after"] == {"names": NAMES, "description": NAMES[0], "default": True}
    assert dsm_lab.state()["certificates"] == before and requests(dsm_lab) == []


def test_description_and_default_are_brought_in_line_without_a_request(run, dsm_lab):
    run()
    dsm_lab.clear_log()
    planned = run(check_mode=True, description="renamed", as_default=True)
    assert planned["changed"] is True and planned["requested"] is False
    assert planned["diff"]["before"] == {"names": NAMES, "description": NAMES[0], "default": False}
    assert planned["diff"]["after"] == {"names": NAMES, "description": "renamed", "default": True}
    assert [c["method"] for c in dsm_lab.calls() if c["http"] == "POST" and c["method"] != "login"] == []
    changed = run(description="renamed", as_default=True)
    assert changed["changed"] is True and changed["certificate"]["default"] is True
    assert changed["certificate"]["description"] == "renamed"
    assert requests(dsm_lab) == [] and issued(dsm_lab)[0]["desc"] == "renamed"


def test_inside_renew_before_days_warns_and_does_not_request(run, dsm_lab):
    run()
    dsm_lab.clear_log()
    warned = run(renew_before_days=100)
    assert warned["changed"] is False and requests(dsm_lab) == []
    assert any("renews" in str(w) and "expires in" in str(w) for w in warned.get("warnings", [])), warned


def test_a_wildcard_is_refused_before_any_call(run, dsm_lab):
    failed = run(names=["nas.example.test", "*.example.test"])
    assert failed["failed"] is True and "names[1]" in failed["msg"] and "acme_certificate" in failed["msg"]
    assert dsm_lab.calls() == []


def test_a_name_not_resolving_to_the_public_address_is_refused_before_any_write(run, dsm_lab, dns):
    dns["photos.example.test"] = []
    dns["nas.example.test"] = ["192.0.2.99"]
    failed = run()
    assert failed["failed"] is True, failed
    assert "photos.example.test -> does not resolve" in failed["msg"]
    assert "nas.example.test -> 192.0.2.99" in failed["msg"] and WAN in failed["msg"]
    assert requests(dsm_lab) == [] and issued(dsm_lab) == []
    skipped = run(check_dns=False, public_address=WAN)
    assert skipped["requested"] is True and skipped["preconditions"]["public_address_from"] == "public_address"


def test_port_80_comes_from_the_option_or_the_router_result(run, dsm_lab):
    failed = run(port_80_forwarded=False)
    assert failed["failed"] is True and "port_80_forwarded" in failed["msg"] and "router_port_forward" in failed["msg"]
    no_mapping = run(port_80_forwarded=False, router=dict(ROUTER, mappings=[]))
    assert no_mapping["failed"] is True and "port_80_forwarded" in no_mapping["msg"]
    cgnat = run(router=dict(ROUTER, external_address="100.64.3.4", behind_cgnat=True))
    assert cgnat["failed"] is True and "acme_certificate" in cgnat["msg"]
    assert requests(dsm_lab) == []
    ok = run(port_80_forwarded=False, router=ROUTER)
    assert ok["requested"] is True and ok["preconditions"]["port_80"] == "forwarded (router mapping tcp/80)"
    assert ok["preconditions"]["public_address_from"] == "router"


@pytest.mark.parametrize("code", sorted(LETSENCRYPT_ERRORS))
def test_each_letsencrypt_error_is_reported_with_its_fix_and_not_sent_twice(run, dsm_lab, code):
    dsm_lab.fault(fail_next={"api": LETSENCRYPT_API, "method": "create", "code": code, "count": 1})
    failed = run()
    assert failed["failed"] is True and failed["error_code"] == code, failed
    assert str(code) in failed["msg"] and LETSENCRYPT_ERRORS[code] in failed["msg"]
    assert "not sent again" in failed["msg"]
    assert len(requests(dsm_lab)) == 1 and issued(dsm_lab) == []


def test_a_request_that_times_out_is_not_sent_again(dsm_lab, tmp_path):
    client = DsmClient(**dsm_lab.client_args(session_cache_dir=str(tmp_path / "cache")))
    client.login()
    client.read("SYNO.API.Info", "query", 1, query=LETSENCRYPT_API)
    dsm_lab.clear_log()
    dsm_lab.fault(latency_ms=1500)
    certs = le.DsmCertificates(client)
    with pytest.raises(DsmError) as raised:
        certs.request_letsencrypt(["nas.example.test"], "admin@example.test", "slow", timeout=0.5)
    message = le.explain(raised.value, 0.5)
    assert "did not answer" in message and "not sent again" in message
    dsm_lab.fault(latency_ms=0)
    deadline = time.monotonic() + 10
    while len(issued(dsm_lab)) < 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(requests(dsm_lab)) == 1, "DSM saw the request once and went on issuing"
    assert [c["desc"] for c in issued(dsm_lab)] == ["slow"]


def test_state_absent_removes_it_unless_it_is_the_default(run, dsm_lab):
    run(as_default=True)
    refused = run(state="absent")
    assert refused["failed"] is True and "default" in refused["msg"]
    run(names=["other.example.test"], check_dns=False, public_address=WAN)
    removed = run(names=["other.example.test"], state="absent")
    assert removed["changed"] is True and [c["letsencrypt"]["domains"] for c in issued(dsm_lab)] == [NAMES]
    again = run(names=["other.example.test"], state="absent")
    assert again["changed"] is False


def test_the_issued_certificate_is_listed_like_any_other_and_renewable(run, dsm_lab, tmp_path):
    run()
    client = DsmClient(**dsm_lab.client_args(session_cache_dir=str(tmp_path / "cache")))
    listed = client.read("SYNO.Core.Certificate.CRT", "list", 1)["certificates"]
    [mine] = [c for c in listed if c["subject"]["common_name"] == NAMES[0]]
    assert mine["renewable"] is True and mine["issuer"]["organization"] == "Let's Encrypt"
    assert sorted(mine["subject"]["sub_alt_name"]) == sorted(NAMES)
    assert all(c["renewable"] is False for c in listed if c is not mine)
    client.close()
