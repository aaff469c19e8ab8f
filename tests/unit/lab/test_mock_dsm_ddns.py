"""The mock DSM's DDNS APIs answer as docs/lab-fidelity.md says (raw HTTP, not the collection's client)."""

from __future__ import annotations

import pytest

from tests.unit.lab.test_mock_dsm_fidelity import Raw, error

RECORD = "SYNO.Core.DDNS.Record"
FIELDS = dict(provider='"DynDNS"', hostname='"nas.example.test"', username='"u"', passwd='"p"')


@pytest.fixture
def dsm(dsm_lab):
    return Raw(dsm_lab).login()


def write(dsm, method, **params):
    return dsm.post("entry.cgi", dict(params, api=RECORD, method=method, version="1"))


def listed(dsm):
    return {r["id"]: r for r in dsm.call(RECORD, "list")["data"]["records"]}


def test_list_has_the_schema_keys_and_never_the_password(dsm):
    assert write(dsm, "create", **FIELDS)["success"] is True
    data = dsm.call(RECORD, "list")["data"]
    assert set(data) == {"next_update_time", "records"}
    record = listed(dsm)["DynDNS"]
    assert set(record) == {
        "id",
        "provider",
        "hostname",
        "username",
        "enable",
        "heartbeat",
        "status",
        "ip",
        "ipv6",
        "net",
        "interface_v4",
        "interface_v6",
        "lastupdated",
    }
    assert record["ip"] == "203.0.113.7" and record["status"] == "service_ddns_normal"


def test_extip_is_a_bare_array_with_dsms_no_ipv6(dsm):
    assert dsm.call("SYNO.Core.DDNS.ExtIP", "list", 2, retry="true")["data"] == [
        {"ip": "203.0.113.7", "ipv6": "0:0:0:0:0:0:0:0", "type": "WAN"}
    ]


@pytest.mark.parametrize(
    "method,params,expected",
    [
        ("create", dict(FIELDS, provider=None), {"code": 114}),
        ("create", dict(FIELDS, passwd=None), {"code": 114}),
        ("create", dict(FIELDS, provider='"Nope"'), {"code": 120, "errors": {"name": "provider", "reason": "type"}}),
        (
            "create",
            dict(FIELDS, hostname='"bad_name"'),
            {"code": 120, "errors": {"name": "hostname", "reason": "type"}},
        ),
        ("create", dict(FIELDS, ip='"300.1.1.1"'), {"code": 120, "errors": {"name": "ip", "reason": "type"}}),
        (
            "create",
            dict(FIELDS, provider='"Synology"'),
            {"code": 120, "errors": {"name": "provider", "reason": "synology"}},
        ),
        ("set", {}, {"code": 114}),
        ("set", {"id": '"nope"'}, {"code": 120, "errors": {"name": "id", "reason": "type"}}),
        (
            "set",
            {"id": '"Synology"', "hostname": '"x.synology.me"'},
            {"code": 120, "errors": {"name": "hostname", "reason": "synology"}},
        ),
        ("delete", {}, {"code": 114}),
        ("delete", {"id": '["Synology","nope"]'}, {"code": 120, "errors": {"name": "id", "reason": "type"}}),
        ("update_ip_address", {"id": '"nope"'}, {"code": 120, "errors": {"name": "id", "reason": "type"}}),
    ],
)
def test_bad_parameters_are_114_or_120_and_change_nothing(dsm, dsm_lab, method, params, expected):
    before = dsm_lab.state()["ddns"]
    assert error(write(dsm, method, **{k: v for k, v in params.items() if v is not None})) == expected
    assert dsm_lab.state()["ddns"] == before


def test_one_record_per_provider_and_delete_takes_an_id_array(dsm):
    assert write(dsm, "create", **FIELDS)["success"] is True
    other = dict(FIELDS)
    other["hostname"] = '"other.example.test"'
    again = write(dsm, "create", **other)
    assert error(again) == {"code": 120, "errors": {"name": "provider", "reason": "exist"}}
    assert write(dsm, "delete", id='["DynDNS"]')["success"] is True
    assert set(listed(dsm)) == {"Synology"}


def test_update_ip_address_publishes_the_current_external_address(dsm, dsm_lab):
    assert write(dsm, "create", **FIELDS)["success"] is True
    dsm_lab.configure(ddns_external_ipv4="198.51.100.4", ddns_external_ipv6="2001:db8::4")
    assert listed(dsm)["DynDNS"]["ip"] == "203.0.113.7"
    assert write(dsm, "update_ip_address")["success"] is True
    records = listed(dsm)
    assert records["DynDNS"]["ip"] == "198.51.100.4" and records["DynDNS"]["ipv6"] == "0:0:0:0:0:0:0:0"
    assert records["Synology"]["ip"] == ""  # disabled records are not published
    assert write(dsm, "set", id='"DynDNS"', interface_v6='"auto"')["success"] is True
    assert listed(dsm)["DynDNS"]["ipv6"] == "2001:db8::4"
