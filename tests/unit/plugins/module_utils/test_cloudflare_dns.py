"""cloudflare_dns against the mock API: find by exact name, create, overwrite, delete."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_dns import CloudflareDns, check_port, fqdn
from ansible_collections.homelab.nas.plugins.module_utils.errors import HomelabInputError
from tests.lab.mock_cloudflare.seed import ZONE_ID


def record(content, **extra):
    return dict(dict(type="A", name="nas.example.test", content=content, proxied=True, ttl=1, comment=None), **extra)


def test_create_find_overwrite_delete(cf_client, cloudflare_lab):
    dns = CloudflareDns(cf_client, cf_client.zone_id("example.test"))
    assert dns.find("A", "nas.example.test") == []
    created = dns.create(record("100.128.77.2"))
    assert created["id"] and {k: created[k] for k in record("x")} == record("100.128.77.2")
    dns.create(record("100.128.77.3", name="nas2.example.test"))
    assert [r["content"] for r in dns.find("A", "nas.example.test")] == ["100.128.77.2"], "the name is exact"
    changed = dns.overwrite(created["id"], record("100.128.77.4", proxied=False, ttl=300, comment="moved"))
    assert (changed["content"], changed["proxied"], changed["ttl"], changed["comment"]) == (
        "100.128.77.4",
        False,
        300,
        "moved",
    )
    dns.delete(created["id"])
    assert dns.find("A", "nas.example.test") == []
    assert len(cloudflare_lab.state()["dns_records"][ZONE_ID]) == 1


def test_names_are_made_absolute_in_the_zone():
    assert fqdn("@", "example.test") == "example.test"
    assert fqdn("NAS.", "example.test") == "nas.example.test"
    assert fqdn("nas.example.test", "Example.Test.") == "nas.example.test"


def test_the_visitors_port_is_checked_by_the_shared_port_rule():
    warnings = []
    for bad in (0, 65536):
        with pytest.raises(HomelabInputError) as err:
            check_port({"port": bad, "proxied": True}, warnings.append, where="records[2].")
        assert str(err.value) == "records[2].port: %d is not a port; use 1-65535" % bad
    check_port({"port": 8443, "proxied": True}, warnings.append)
    check_port({"port": 8444, "proxied": True}, warnings.append)
    assert len(warnings) == 1 and "port 8444 is not one Cloudflare's proxy passes" in warnings[0]
