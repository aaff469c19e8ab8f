"""dsm_ddns (DsmDdns) against the mock DSM: providers and records read, a record created, updated, refreshed and
deleted, the external address, and DSM's refusals."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.nas.plugins.module_utils import dsm_ddns as d, dsm_validate as v
from ansible_collections.homelab.nas.plugins.module_utils.dsm_errors import DsmError
from tests.lab.mock_dsm.ddns import MYDS_ACCOUNT, SYNOLOGY_HOSTNAME

WANT = dict(
    provider="DynDNS",
    hostname="nas.example.com",
    username="dyn-user",
    enabled=True,
    heartbeat=False,
    ipv4="auto",
    ipv6="disabled",
)


def records(lab):
    return {r["provider"]: r for r in lab.state()["ddns"]["records"]}


def test_providers_records_external_address_and_account_are_read(dsm_lab, dsm_client):
    ddns = d.DsmDdns(dsm_client)
    providers, listed = ddns.read()
    assert {p["id"] for p in providers} >= {"Synology", "DynDNS"}
    assert (
        [d.record_view(r)["hostname"] for r in listed] == [SYNOLOGY_HOSTNAME] == [r["hostname"] for r in ddns.records()]
    )
    dsm_lab.configure(ddns_external_ipv4="203.0.113.9", ddns_external_ipv6="2001:db8::9")
    assert ddns.external_address() == {"ipv4": "203.0.113.9", "ipv6": "2001:db8::9"}
    assert ddns.synology_account() == MYDS_ACCOUNT


def test_a_record_is_created_updated_refreshed_and_deleted(dsm_lab, dsm_client, dsm_writes):
    ddns = d.DsmDdns(dsm_client)
    dsm_lab.configure(ddns_external_ipv4="203.0.113.7")
    external = ddns.external_address()
    ddns.create(WANT, external, "s3cret")
    stored = records(dsm_lab)["DynDNS"]
    assert (stored["hostname"], stored["username"], stored["passwd"]) == ("nas.example.com", "dyn-user", "s3cret")
    assert stored["ip"] == "203.0.113.7" and stored["interface_v6"] == "disabled" and stored["enable"] is True

    record = d.find_record(ddns.records(), {"id": "DynDNS"}, "nas.example.com")
    ddns.update(record, dict(WANT, heartbeat=True, username="other"), external, None)
    stored = records(dsm_lab)["DynDNS"]
    assert stored["heartbeat"] is True and stored["username"] == "other"
    assert stored["passwd"] == "s3cret", "no password given: the stored one stays"

    dsm_lab.configure(ddns_external_ipv4="203.0.113.8")
    assert d.stale(ddns.records()[-1], dict(WANT, refresh=True), ddns.external_address()) == ["ipv4"]
    ddns.update_ip_address(record)
    assert records(dsm_lab)["DynDNS"]["ip"] == "203.0.113.8"

    ddns.delete(record)
    assert "DynDNS" not in records(dsm_lab) and SYNOLOGY_HOSTNAME in [r["hostname"] for r in ddns.records()]
    assert dsm_writes() == [
        (d.RECORD_API, "create"),
        (d.RECORD_API, "set"),
        (d.RECORD_API, "update_ip_address"),
        (d.RECORD_API, "delete"),
    ]


def test_dsm_refuses_a_second_record_for_a_provider_and_a_synology_hostname(dsm_lab, dsm_client):
    ddns = d.DsmDdns(dsm_client)
    ddns.create(WANT, None, "s3cret")
    with pytest.raises(DsmError) as err:
        ddns.create(dict(WANT, hostname="second.example.com"), None, "s3cret")
    assert err.value.api == d.RECORD_API and err.value.method == "create" and err.value.code == 120
    assert "provider" in str(err.value)
    with pytest.raises(DsmError):
        ddns.create(dict(WANT, provider="Synology", hostname="new.synology.me"), None, None)
    assert sorted(records(dsm_lab)) == ["DynDNS", "Synology"]
    assert records(dsm_lab)["DynDNS"]["hostname"] == "nas.example.com"


def test_the_plan_refuses_a_new_synology_hostname_before_any_write(dsm_lab, dsm_client):
    want = d.desired(dict(provider="Synology", hostname="new.synology.me", ipv4="auto", ipv6="disabled"))
    with pytest.raises(v.InputError) as err:
        d.plan(d.DsmDdns(dsm_client), want)
    assert "no Synology DDNS record for new.synology.me" in str(err.value) and MYDS_ACCOUNT in str(err.value)
    assert not [c for c in dsm_lab.calls() if c["method"] in ("create", "set", "delete", "update_ip_address")]
    assert list(records(dsm_lab)) == ["Synology"]
