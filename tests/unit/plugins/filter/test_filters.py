"""The filter plugins the roles build module input with: pure functions over the declared state."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.nas.plugins.filter import (
    firewall_rules,
    port_forwards,
    proxied_ports,
    reverse_proxy_rules,
    tunnel_ingress,
    unproxied_services,
)

SERVICES = [
    {"name": "photos", "hostname": "photos.example.test", "backend_port": 8080},
    {
        "name": "media",
        "hostname": "media.example.test",
        "backend_host": "192.168.1.20",
        "backend_port": 8096,
        "websocket": True,
        "external_port": 8443,
    },
    {"name": "docs", "hostname": "docs.example.test", "backend_port": 8000, "backend_protocol": "https"},
]


def _filter(module, name):
    return module.FilterModule().filters()[name]


def test_reverse_proxy_rule_per_service_with_defaults():
    rules = _filter(reverse_proxy_rules, "reverse_proxy_rules")(SERVICES)
    assert rules[0] == {
        "description": "photos",
        "frontend": {"hostname": "photos.example.test", "port": 443},
        "backend": {"host": "localhost", "port": 8080, "protocol": "http"},
        "websocket": False,
    }
    assert rules[1]["frontend"]["port"] == 8443 and rules[1]["backend"]["host"] == "192.168.1.20"
    assert rules[1]["websocket"] is True and rules[2]["backend"]["protocol"] == "https"


def test_reverse_proxy_rules_name_a_missing_field():
    with pytest.raises(AnsibleFilterError, match=r"nas_services\[1\]\.backend_port"):
        _filter(reverse_proxy_rules, "reverse_proxy_rules")([SERVICES[0], {"name": "x", "hostname": "x.example.test"}])


def test_one_forward_per_distinct_external_port():
    forwards = _filter(port_forwards, "port_forwards")(SERVICES, internal_client="192.168.1.10")
    assert forwards == [
        {"external_port": 443, "internal_port": 443, "description": "https 443", "internal_client": "192.168.1.10"},
        {"external_port": 8443, "internal_port": 8443, "description": "https 8443", "internal_client": "192.168.1.10"},
    ]
    assert "internal_client" not in _filter(port_forwards, "port_forwards")(SERVICES)[0]


def test_the_same_input_gives_the_same_lists_however_often_it_is_applied():
    # What set_fact loops got wrong: a second run for one host doubled every list.
    build = _filter(reverse_proxy_rules, "reverse_proxy_rules")
    assert build(SERVICES) == build(SERVICES) and len(build(SERVICES)) == len(SERVICES)


def test_firewall_rules_lan_first_then_cloudflare_on_published_ports_only():
    rules = _filter(firewall_rules, "firewall_rules")(
        ["192.168.0.0/16", "10.0.0.0/8"],
        services=SERVICES,
        dsm_port=15001,
        lan_ports=["smb"],
        cloudflare_ranges=["173.245.48.0/20", "2400:cb00::/32"],
    )
    assert [r["name"] for r in rules] == ["lan 192.168.0.0/16", "lan 10.0.0.0/8", "cloudflare", "cloudflare"]
    assert rules[0] == {
        "name": "lan 192.168.0.0/16",
        "ports": ["dsm", "15001", "smb", "443", "8443"],
        "protocol": "tcp_udp",
        "source": "192.168.0.0/16",
    }
    assert rules[3] == {"name": "cloudflare", "ports": ["443", "8443"], "source": "2400:cb00::/32"}


def test_no_cloudflare_rule_when_nothing_is_published():
    rules = _filter(firewall_rules, "firewall_rules")(["192.168.0.0/16"], cloudflare_ranges=["173.245.48.0/20"])
    assert [r["name"] for r in rules] == ["lan 192.168.0.0/16"] and rules[0]["ports"] == ["dsm", "5001"]


def test_unproxied_services_and_the_shared_port_list():
    https = _filter(proxied_ports, "proxied_ports")("https")
    assert https[0] == 443 and 8443 in https and 80 not in https
    assert 80 in _filter(proxied_ports, "proxied_ports")("http")
    odd = {"name": "ssh", "hostname": "ssh.example.test", "backend_port": 22, "external_port": 22}
    assert _filter(unproxied_services, "unproxied_services")(SERVICES + [odd]) == [odd]
    with pytest.raises(AnsibleFilterError, match="neither https nor http"):
        _filter(proxied_ports, "proxied_ports")("ftp")


def test_one_proxied_record_per_service_pointing_at_the_public_address():
    from ansible_collections.homelab.nas.plugins.filter import dns_records

    records = _filter(dns_records, "dns_records")(SERVICES, content="100.128.77.2")
    assert records[0] == {
        "name": "photos.example.test",
        "content": "100.128.77.2",
        "proxied": True,
        "port": 443,
        "comment": "photos",
    }
    assert [r["port"] for r in records] == [443, 8443, 443]
    with pytest.raises(AnsibleFilterError, match=r"nas_services\[0\]\.hostname"):
        _filter(dns_records, "dns_records")([{"name": "x"}], content="100.128.77.2")


def test_absent_services_publish_nothing_and_a_shared_port_stays_forwarded():
    from ansible_collections.homelab.nas.plugins.filter import dns_records, present_services

    services = SERVICES + [
        {"name": "old", "state": "absent"},
        {"name": "gone", "state": "absent", "external_port": 2053},
    ]
    assert _filter(present_services, "present_services")(services) == SERVICES
    assert [r["description"] for r in _filter(reverse_proxy_rules, "reverse_proxy_rules")(services)] == [
        "photos",
        "media",
        "docs",
    ]
    assert [r["name"] for r in _filter(dns_records, "dns_records")(services, content="100.128.77.2")] == [
        "photos.example.test",
        "media.example.test",
        "docs.example.test",
    ]
    assert [m["external_port"] for m in _filter(port_forwards, "port_forwards")(services)] == [443, 8443]
    # Docs leaves: 443 is still photos' port, so only media's 8443 is no longer forwarded (and opened).
    left = [SERVICES[0], dict(SERVICES[1], state="absent"), dict(SERVICES[2], state="absent")]
    assert [m["external_port"] for m in _filter(port_forwards, "port_forwards")(left)] == [443]
    rules = _filter(firewall_rules, "firewall_rules")(
        ["192.168.1.0/24"], services=left, cloudflare_ranges=["10.0.0.0/8"]
    )
    assert rules[-1]["ports"] == ["443"]
    assert (
        _filter(unproxied_services, "unproxied_services")([{"name": "ssh", "external_port": 22, "state": "absent"}])
        == []
    )


def test_tunnel_ingress_sends_each_hostname_to_dsms_reverse_proxy_on_its_port():
    rules = _filter(tunnel_ingress, "tunnel_ingress")(SERVICES + [{"name": "old", "state": "absent"}])
    assert [(r["hostname"], r["service"], r["origin_server_name"], r["comment"]) for r in rules] == [
        ("photos.example.test", "https://localhost:443", "photos.example.test", "photos"),
        ("media.example.test", "https://localhost:8443", "media.example.test", "media"),
        ("docs.example.test", "https://localhost:443", "docs.example.test", "docs"),
    ]
    assert all(r["no_tls_verify"] for r in rules)
    assert _filter(tunnel_ingress, "tunnel_ingress")(SERVICES[:1], origin="10.0.0.2")[0]["service"] == (
        "https://10.0.0.2:443"
    )
