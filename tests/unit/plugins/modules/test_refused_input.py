"""Issue 12 items 2, 3, 5 at the modules: injections and data that would widen trust are refused before any
request, naming the field; the lab's state is the same before and after (in-process modules, real mocks)."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.nas.plugins.modules import (
    cloudflare_dns_record,
    cloudflare_dns_records,
    dsm_firewall,
    dsm_info,
    dsm_reverse_proxy,
    dsm_security,
    router_port_forward,
)
from tests.unit.plugins.modules.runner import run_module

PHOTOS = {"description": "photos", "frontend": {"hostname": "photos.example.test"}, "backend": {"port": 8080}}


@pytest.fixture
def dsm(dsm_lab, capsys, tmp_path):
    def _run(module, check_mode=False, **args):
        base = dsm_lab.client_args(session_cache_dir=str(tmp_path / "cache"))
        base.update(args)
        return run_module(module, base, capsys, check_mode=check_mode, diff=True)

    return _run


@pytest.fixture
def cloudflare(cloudflare_lab, capsys):
    def _run(module, check_mode=False, **args):
        return run_module(module, cloudflare_lab.module_args(**args), capsys, check_mode=check_mode, diff=True)

    return _run


def refused(lab, run, module, fragment, **args):
    """The module fails with `fragment` in its message, in check mode and not, and the lab saw no request."""
    before = lab.state()
    for check_mode in (True, False):
        lab.clear_log()
        result = run(module, check_mode=check_mode, **args)
        assert result.get("failed") is True and fragment in result["msg"], result
        assert lab.calls() == [] and lab.state() == before


def header(name, value):
    return [dict(PHOTOS, custom_headers=[{"name": name, "value": value}])]


@pytest.mark.parametrize(
    "rules, fragment",
    [
        # The injection: a header that ends the directive and smuggles another.
        (header("X", "a;\n proxy_pass http://evil.test"), "rules[0].custom_headers[0].value: "),
        (header("X: a;\n proxy_pass http://evil.test", "1"), "rules[0].custom_headers[0].name: "),
        (header("X-A", "a} server { listen 80"), "rules[0].custom_headers[0].value: "),
        (header("X-A", "a\\"), "rules[0].custom_headers[0].value: "),
        (header("X-A", "#"), "rules[0].custom_headers[0].value: "),
        (header("X-A", "a\x00"), "rules[0].custom_headers[0].value: "),
        (header("X-A", "naïve"), "rules[0].custom_headers[0].value: "),
        (header("X A", "1"), "rules[0].custom_headers[0].name: "),
        ([dict(PHOTOS, frontend={"hostname": "$(reboot).example.test"})], "rules[0].frontend.hostname: "),
        ([dict(PHOTOS, frontend={"hostname": "photos.example.test\n"})], "rules[0].frontend.hostname: "),
        ([dict(PHOTOS, backend={"host": "`id`", "port": 8080})], "rules[0].backend.host: "),
        # Two rules with one description (after the prefix) would take each other's rule on DSM.
        (
            [PHOTOS, dict(PHOTOS, frontend={"hostname": "media.example.test"})],
            "rules[1].description: 'photos' is already the description of rules[0]",
        ),
    ],
)
def test_reverse_proxy_refuses_before_any_request(dsm, dsm_lab, rules, fragment):
    refused(dsm_lab, dsm, dsm_reverse_proxy, fragment, rules=rules)


def test_reverse_proxy_descriptions_collide_after_the_prefix(dsm, dsm_lab):
    media = dict(PHOTOS, frontend={"hostname": "media.example.test"}, description="photos")
    refused(
        dsm_lab,
        dsm,
        dsm_reverse_proxy,
        "rules[1].description: 'homelab.nas: photos' is already the description of rules[0]",
        rules=[PHOTOS, media],
        description_prefix="homelab.nas",
    )


def test_reverse_proxy_matches_a_frontend_whatever_its_case_and_trailing_dot(dsm, dsm_lab):
    """The seed holds photos.example.test; a rule for Photos.Example.Test. is that rule, not a second one."""
    seeded = dict(dsm_lab.state()["reverse_proxy"])
    assert [e["frontend"]["fqdn"] for e in seeded.values()].count("photos.example.test") == 1
    rule = dict(PHOTOS, frontend={"hostname": "Photos.Example.Test."})
    dsm(dsm_reverse_proxy, rules=[rule])
    assert dsm_lab.state()["reverse_proxy"].keys() == seeded.keys()  # updated in place, no second rule
    assert dsm(dsm_reverse_proxy, rules=[rule])["changed"] is False


def test_reverse_proxy_sends_plain_headers(dsm, dsm_lab):
    result = dsm(dsm_reverse_proxy, rules=header("X-Forwarded-Host", "$host"))
    assert result["changed"] is True
    (entry,) = [e for e in dsm_lab.state()["reverse_proxy"].values() if e["frontend"]["fqdn"] == "photos.example.test"]
    assert entry["customize_headers"] == [{"name": "X-Forwarded-Host", "value": "$host"}]


@pytest.mark.parametrize(
    "args, fragment",
    [
        ({"trusted_proxies": ["0.0.0.0/0"]}, "trusted_proxies[0]: 0.0.0.0/0 is wider than /8"),
        ({"trusted_proxies": ["173.245.48.0/20", "::/0"]}, "trusted_proxies[1]: ::/0 is wider than /16"),
        ({"trusted_proxies": ["173.245.48.0/20;reboot"]}, "trusted_proxies[0]: '173.245.48.0/20;reboot' is not"),
        ({"dos_protection": {"eth0; reboot": True}}, "dos_protection.eth0; reboot: 'eth0; reboot' is not an interface"),
        ({"dos_protection": {"wlan0": True}}, "dos_protection.wlan0: 'wlan0' is not an interface name"),
    ],
)
def test_security_refuses_trust_for_the_whole_internet(dsm, dsm_lab, args, fragment):
    refused(dsm_lab, dsm, dsm_security, fragment, **args)


def test_auto_block_allow_list_is_bounded_its_block_list_is_not(dsm, dsm_lab):
    block = {"enabled": True, "attempts": 10, "within_minutes": 5, "expire_days": 0}
    refused(
        dsm_lab,
        dsm,
        dsm_security,
        "auto_block.allow_list[0]: 0.0.0.0/0 is wider than /8",
        auto_block=dict(block, allow_list=["0.0.0.0/0"]),
    )
    result = dsm(dsm_security, check_mode=True, auto_block=dict(block, block_list=["0.0.0.0/1"]))
    assert not result.get("failed"), result


@pytest.mark.parametrize(
    "args, fragment",
    [
        ({"interface": "eth9x"}, "interface: 'eth9x' is not an interface name DSM uses"),
        ({"interface": "lan"}, "interface: 'lan' is not an interface name DSM uses"),
        ({"controller_interface": "wifi"}, "controller_interface: 'wifi' is not an interface name"),
        ({"rules": [{"source": "0.0.0.0/1", "ports": "https"}]}, "rules[0].source: '0.0.0.0/1' is wider than /8"),
        ({"rules": [{"source": "::/0", "ports": "https"}]}, "rules[0].source: '::/0' is wider than /16"),
        ({"controller_address": "all"}, "controller_address: 'all' is not one address"),
    ],
)
def test_firewall_refuses_an_unknown_interface_and_a_source_that_wide(dsm, dsm_lab, args, fragment):
    args.setdefault("rules", [{"source": "192.168.1.0/24", "ports": "dsm"}])
    refused(dsm_lab, dsm, dsm_firewall, fragment, **args)


@pytest.mark.parametrize(
    "args, message",
    [
        ({"port": 0}, "port: 0 is not a port; use 1-65535 (DSM's defaults are 5001 for HTTPS, 5000 for HTTP)"),
        ({"port": 65536}, "port: 65536 is not a port; use 1-65535 (DSM's defaults are 5001 for HTTPS, 5000 for HTTP)"),
        ({"tls_fingerprints": ["AB" * 32, "not-a-digest"]}, "tls_fingerprints[1]: 'not-a-digest' is not a SHA-256"),
        (
            {"tls_fingerprints": ["AB" * 32], "validate_certs": False},
            "tls_fingerprints: pins are a way of verifying DSM's certificate and validate_certs is false; set "
            "validate_certs: true (the default) to use them",
        ),
    ],
)
def test_dsm_connection_options_are_refused_before_any_request_naming_the_option(dsm, dsm_lab, args, message):
    refused(dsm_lab, dsm, dsm_info, message, **args)
    assert dsm(dsm_info, check_mode=True, **args)["msg"].startswith(message.split(":")[0] + ":")


@pytest.mark.parametrize(
    "client, fragment",
    [
        ("8.8.8.8", "mappings[0].internal_client: 8.8.8.8 is not a LAN address"),
        ("100.64.1.2", "mappings[0].internal_client: 100.64.1.2 is not a LAN address"),
        ("192.168.1.10; reboot", "mappings[0].internal_client: '192.168.1.10; reboot' is not an IPv4"),
    ],
)
def test_a_forward_goes_to_the_lan_only(router_lab, capsys, client, fragment):
    args = {"igd_url": router_lab.igd_url, "mappings": [{"external_port": 443, "internal_client": client}]}
    result = run_module(router_port_forward, args, capsys)
    assert result["failed"] is True and fragment in result["msg"]
    assert router_lab.calls() == []


@pytest.mark.parametrize(
    "record, fragment",
    [
        # Today's silent rewrite: x.other.test would become x.other.test.example.test.
        ({"name": "x.other.test", "content": "100.128.77.2"}, "name: 'x.other.test' is not in zone example.test"),
        ({"name": "photos lab", "content": "100.128.77.2"}, "name: 'photos lab' is not a valid DNS record name"),
        ({"name": "phötos", "content": "100.128.77.2"}, "name: 'phötos' is not a valid DNS record name"),
        ({"name": "a\nb", "content": "100.128.77.2"}, "name: 'a\\nb' is not a valid DNS record name"),
        ({"name": "photos", "content": "192.168.1.10"}, "content: 192.168.1.10 is not a public address"),
        ({"name": "photos", "content": "100.64.0.7"}, "content: 100.64.0.7 is not a public address"),
        ({"name": "photos", "content": "127.0.0.1"}, "content: 127.0.0.1 is not a public address"),
        ({"name": "photos", "content": "169.254.1.1"}, "content: 169.254.1.1 is not a public address"),
        ({"name": "photos", "type": "AAAA", "content": "fd00::7"}, "content: fd00::7 is not a public address"),
        ({"name": "photos", "type": "AAAA", "content": "fe80::1"}, "content: fe80::1 is not a public address"),
        ({"name": "photos", "type": "CNAME", "content": "nas .example.net"}, "content: 'nas .example.net' is not"),
    ],
)
def test_dns_records_refuse_names_outside_the_zone_and_proxied_private_content(
    cloudflare, cloudflare_lab, record, fragment
):
    refused(cloudflare_lab, cloudflare, cloudflare_dns_record, fragment, **record)
    refused(cloudflare_lab, cloudflare, cloudflare_dns_records, "records[0]." + fragment, records=[record])


def test_a_record_to_remove_is_named_by_the_same_rules(cloudflare, cloudflare_lab):
    fragment = "name: 'x.other.test' is not in zone example.test"
    refused(cloudflare_lab, cloudflare, cloudflare_dns_record, fragment, name="x.other.test", state="absent")


def test_dns_names_are_compared_without_case_or_trailing_dot(cloudflare, cloudflare_lab):
    photos = {"name": "photos", "content": "100.128.77.2", "comment": "photos"}
    first = cloudflare(cloudflare_dns_records, records=[photos])
    assert first["changed"] is True
    again = cloudflare(cloudflare_dns_records, records=[dict(photos, name="Photos.Example.Test.")])
    assert again["changed"] is False, again
    refused(
        cloudflare_lab,
        cloudflare,
        cloudflare_dns_records,
        "records[1]: A photos.example.test is already declared by records[0]",
        records=[{"name": "photos", "content": "100.128.77.2"}, {"name": "PHOTOS.example.test.", "content": "1.1.1.1"}],
    )


def test_an_unproxied_record_to_a_lan_address_is_made_with_a_warning(cloudflare, cloudflare_lab):
    result = cloudflare(cloudflare_dns_record, name="nas-lan", content="192.168.1.10", proxied=False)
    assert result["changed"] is True and result["record"]["content"] == "192.168.1.10"
    assert any("192.168.1.10 is not a public address" in str(w) for w in result["warnings"])
