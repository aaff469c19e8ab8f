"""dsm_ddns against the mock DSM's DDNS APIs, in-process: create, rerun, update, check mode, diff, delete,
refusals before any write, synology.me, and DSM's external address changing."""

from __future__ import annotations

import json

import pytest

from ansible_collections.homelab.nas.plugins.module_utils import dsm_ddns as d
from ansible_collections.homelab.nas.plugins.modules import dsm_ddns
from tests.lab.mock_dsm.ddns import MYDS_ACCOUNT, SYNOLOGY_HOSTNAME
from tests.unit.plugins.modules.runner import run_module

SECRET = "dyn-s3cret-Zq9"
NEW_SECRET = "dyn-n3w-Xw4"
DYN = dict(provider="DynDNS", hostname="nas.example.com", provider_username="dyn-user", provider_password=SECRET)
WRITES = ("create", "set", "delete", "update_ip_address")


@pytest.fixture
def run(dsm_lab, capsys, tmp_path):
    def _run(check_mode=False, diff=True, **args):
        base = dsm_lab.client_args(session_cache_dir=str(tmp_path / "cache"))
        base.update(args)
        return run_module(dsm_ddns, base, capsys, check_mode=check_mode, diff=diff)

    return _run


def records(lab):
    return {r["provider"]: r for r in lab.state()["ddns"]["records"]}


def writes(lab):
    return [c["method"] for c in lab.calls(api=d.RECORD_API) if c["method"] in WRITES]


def test_create_then_rerun_is_no_change_and_the_password_is_never_shown(run, dsm_lab):
    first = run(heartbeat=True, **DYN)
    assert first["changed"] is True, first
    record = records(dsm_lab)["DynDNS"]
    assert record["hostname"] == "nas.example.com" and record["username"] == "dyn-user"
    assert record["passwd"] == SECRET and record["enable"] is True and record["heartbeat"] is True
    assert record["ip"] == "203.0.113.7" and record["interface_v6"] == "disabled"
    assert first["record"]["published"] == {"ipv4": "203.0.113.7", "ipv6": None}
    assert first["diff"]["before"] == {} and first["diff"]["after"]["password"] == d.HIDDEN
    assert SECRET not in json.dumps(first) and SECRET not in json.dumps(dsm_lab.calls())
    assert writes(dsm_lab) == ["create"]

    dsm_lab.clear_log()
    again = run(heartbeat=True, **DYN)
    assert again["changed"] is False and again["diff"]["before"] == again["diff"]["after"], again
    assert again["refreshed"] is False and writes(dsm_lab) == []
    assert SECRET not in json.dumps(again)


def test_update_keeps_the_password_unless_update_password_always(run, dsm_lab):
    run(**DYN)
    dsm_lab.configure(ddns_external_ipv6="2001:db8:5::7")
    changed = run(heartbeat=True, ipv6="auto", **dict(DYN, provider_password=NEW_SECRET))
    assert changed["changed"] is True
    assert changed["diff"]["before"]["heartbeat"] is False and changed["diff"]["after"]["heartbeat"] is True
    assert "password" not in changed["diff"]["after"]  # on_create: not sent, not compared
    record = records(dsm_lab)["DynDNS"]
    assert record["passwd"] == SECRET and record["heartbeat"] is True and record["ipv6"] == "2001:db8:5::7"

    rotated = run(heartbeat=True, ipv6="auto", update_password="always", **dict(DYN, provider_password=NEW_SECRET))
    assert rotated["changed"] is True
    assert rotated["diff"]["before"]["password"] == d.NOT_READABLE and rotated["diff"]["after"]["password"] == d.HIDDEN
    assert records(dsm_lab)["DynDNS"]["passwd"] == NEW_SECRET
    assert NEW_SECRET not in json.dumps(rotated) and SECRET not in json.dumps(rotated)


def test_check_mode_plans_and_writes_nothing(run, dsm_lab):
    before = dsm_lab.state()["ddns"]
    planned = run(check_mode=True, **DYN)
    assert planned["changed"] is True and planned["record"]["hostname"] == "nas.example.com", planned
    assert dsm_lab.state()["ddns"] == before and writes(dsm_lab) == []


def test_absent_deletes_the_record_and_a_rerun_is_no_change(run, dsm_lab):
    run(**DYN)
    gone = run(provider="DynDNS", hostname="NAS.example.com.", state="absent")
    assert gone["changed"] is True and gone["record"] is None
    assert "DynDNS" not in records(dsm_lab) and "Synology" in records(dsm_lab)
    again = run(provider="DynDNS", hostname="nas.example.com", state="absent")
    assert again["changed"] is False


@pytest.mark.parametrize(
    "args,message",
    [
        (dict(DYN, provider="Dynamic"), "provider: 'Dynamic' is not a DDNS provider this DSM offers; use one of: "),
        (dict(DYN, hostname="bad_host!.example.com"), "hostname: 'bad_host!.example.com' is not a valid hostname"),
        (dict(DYN, hostname="nas"), "hostname: 'nas' is a single label"),
        (dict(DYN, provider_password=None), "provider_password: creating a DynDNS record needs"),
        (dict(DYN, ipv4="disabled"), "ipv4, ipv6: both disabled"),
        (dict(provider="Synology", hostname="other.synology.me"), "hostname: DSM has no Synology DDNS record"),
        (dict(provider="Synology", hostname=SYNOLOGY_HOSTNAME, provider_password="x"), "provider_password: Synology"),
    ],
)
def test_bad_input_fails_naming_the_field_and_leaves_dsm_unchanged(run, dsm_lab, args, message):
    before = dsm_lab.state()["ddns"]
    result = run(**args)
    assert result.get("failed") is True and not result.get("changed"), result
    assert result["msg"].startswith(message), result["msg"]
    assert dsm_lab.state()["ddns"] == before and writes(dsm_lab) == []


def test_unknown_provider_lists_what_dsm_offers(run):
    result = run(**dict(DYN, provider="Dynamic"))
    assert result["msg"].endswith("DynDNS, FreeDNS, No-IP.com, Synology"), result["msg"]


def test_a_second_hostname_for_a_provider_is_refused_naming_the_record_to_remove(run, dsm_lab):
    run(**DYN)
    before = dsm_lab.state()["ddns"]
    result = run(**dict(DYN, hostname="other.example.com"))
    assert result.get("failed") is True
    assert "one DDNS record per provider" in result["msg"] and "hostname: nas.example.com" in result["msg"]
    assert dsm_lab.state()["ddns"] == before


def test_synology_hostname_is_read_and_enabled_never_created(run, dsm_lab):
    missing = run(provider="synology", hostname="other.synology.me")
    assert "cannot be created through this API" in missing["msg"] and MYDS_ACCOUNT in missing["msg"]
    assert SYNOLOGY_HOSTNAME in missing["msg"]

    enabled = run(provider="synology", hostname=SYNOLOGY_HOSTNAME)
    assert enabled["changed"] is True
    assert enabled["diff"]["before"]["enabled"] is False and enabled["diff"]["after"]["enabled"] is True
    record = records(dsm_lab)["Synology"]
    assert record["enable"] is True and record["ip"] == "203.0.113.7" and record["username"] == MYDS_ACCOUNT
    assert run(provider="Synology", hostname=SYNOLOGY_HOSTNAME)["changed"] is False


def test_provider_by_name_or_id(run, dsm_lab):
    made = run(**dict(DYN, provider="no-ip.com"))
    assert made["changed"] is True and made["record"]["provider"] == "noip"
    assert records(dsm_lab)["noip"]["hostname"] == "nas.example.com"
    assert run(**dict(DYN, provider="NOIP"))["changed"] is False


def test_a_changed_external_address_is_published_now(run, dsm_lab):
    run(**DYN)
    dsm_lab.configure(ddns_external_ipv4="198.51.100.20")
    left = run(refresh=False, **DYN)
    assert left["changed"] is False and records(dsm_lab)["DynDNS"]["ip"] == "203.0.113.7"
    planned = run(check_mode=True, **DYN)
    assert planned["changed"] is True and planned["refreshed"] is True
    assert planned["diff"]["after"]["published"] == {"ipv4": "198.51.100.20"}
    assert records(dsm_lab)["DynDNS"]["ip"] == "203.0.113.7"
    dsm_lab.clear_log()
    refreshed = run(**DYN)
    assert refreshed["changed"] is True and refreshed["refreshed"] is True
    assert writes(dsm_lab) == ["update_ip_address"]
    assert records(dsm_lab)["DynDNS"]["ip"] == "198.51.100.20"
    assert refreshed["record"]["published"]["ipv4"] == "198.51.100.20"
    assert run(**DYN)["changed"] is False


def test_a_dsm_that_does_not_list_the_published_address_gets_a_warning(run, dsm_lab, monkeypatch):
    run(**DYN)
    dsm_lab.configure(ddns_external_ipv4="198.51.100.20")
    monkeypatch.setattr(d.DsmDdns, "update_ip_address", lambda self, record: None)  # DSM takes it, lists no change
    result = run(**DYN)
    assert result["changed"] is True and result["refreshed"] is True
    assert any("set refresh: false" in str(w) for w in result.get("warnings", [])), result


def test_a_carrier_grade_nat_address_warns(run, dsm_lab):
    dsm_lab.configure(ddns_external_ipv4="100.64.12.7")
    result = run(**DYN)
    assert any("carrier-grade NAT" in str(w) for w in result.get("warnings", [])), result


def test_records_are_read_tolerantly():
    view = d.record_view({"provider": "X", "hostname": "A.Example.com.", "enable": "true", "ip": "203.0.113.1"})
    assert view == {
        "provider": "X",
        "hostname": "a.example.com",
        "username": "",
        "enabled": True,
        "heartbeat": False,
        "ipv4": "auto",
        "ipv6": "disabled",
    }
    assert d.record_view({"interface_v6": "auto", "ipv6": d.NO_IPV6})["ipv6"] == "auto"
    assert d.published({"ip": "", "ipv6": "::"}) == {"ipv4": None, "ipv6": None}
    assert d.comparable_password({"passwd": "********"}) is None
    assert d.comparable_password({"passwd": "abc"}) == "abc"
