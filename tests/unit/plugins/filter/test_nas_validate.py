"""The planning step's pure checks: each rule refuses what it should, lets the lab's own state through, and
names the variable in its message."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.nas.plugins.filter import plan_errors as plan_errors_filter
from ansible_collections.homelab.nas.plugins.module_utils.nas_validate import covers, plan_errors

# The lab inventory's declared state, with the roles' defaults: a sound plan.
GOOD = {
    "nas_zone": "example.test",
    "nas_services": [
        {"name": "photos", "hostname": "photos.example.test", "backend_port": 8080},
        {
            "name": "media",
            "hostname": "media.example.test",
            "backend_host": "192.168.1.20",
            "backend_port": 8096,
            "websocket": True,
            "external_port": 8443,
        },
    ],
    "nas_lan_address": "127.0.0.1",
    "exposure_manage_router": True,
    "dsm_username": "ansible",
    "dsm_port": 5001,
    "tls_certificate_source": "cloudflare_origin",
    "tls_zone_settings": {"ssl": "strict", "min_tls_version": "1.2"},
    "tls_hsts": {"max_age": 15552000, "include_subdomains": True, "preload": False, "nosniff": True},
    "hardening_dos_interfaces": ["eth0", "bond0", "ovs_eth1", "pppoe"],
    "hardening_auto_block": {"attempts": 5, "within_minutes": 5, "expire_days": 0},
    "hardening_lan_networks": ["192.168.0.0/16", "fd00::/8"],
    "hardening_lan_ports": ["smb", "5000-5001", 8443],
    "hardening_update_days": ["sun", "Wednesday", "daily"],
    "hardening_update_time": "23:59",
}


def with_(**changes):
    declared = dict(GOOD)
    declared.update(changes)
    return declared


def test_the_lab_plan_is_sound():
    assert plan_errors(GOOD) == []
    # letsencrypt_dsm's default names are the zone and the published hostnames: covered without tls_hostnames.
    assert plan_errors(with_(tls_certificate_source="letsencrypt_dsm")) == []


def test_unset_optional_variables_take_the_role_defaults():
    assert plan_errors(with_(exposure_public_address=None, tls_hostnames=None, dsm_port=None)) == []


@pytest.mark.parametrize(
    "pattern,name,expected",
    [
        ("*.example.test", "photos.example.test", True),
        ("*.example.test", "a.b.example.test", False),  # one label only
        ("*.example.test", "example.test", False),
        ("example.test", "Example.Test.", True),
        ("*.b.example.test", "a.b.example.test", True),
        ("nas.example.test", "photos.example.test", False),
    ],
)
def test_certificate_coverage(pattern, name, expected):
    assert covers(pattern, name) is expected


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"nas_zone": None}, "nas_zone: not set"),
        ({"nas_zone": "exa mple.test"}, "nas_zone: 'exa mple.test' is not a valid hostname"),
        ({"nas_services": [{"name": "a", "hostname": "a.example.org", "backend_port": 1}]}, "is not in nas_zone"),
        ({"nas_services": [{"name": "a", "hostname": "x.a.example.test", "backend_port": 1}]}, "not covered"),
        ({"nas_services": [{"name": "a", "hostname": "a.example.test", "backend_port": True}]}, "backend_port: True"),
        ({"nas_services": [{"name": "a", "hostname": "a.example.test"}]}, "nas_services[0].backend_port: not set"),
        ({"nas_services": [{"hostname": "a.example.test", "backend_port": 1}]}, "nas_services[0].name: not set"),
        ({"nas_services": [{"name": "a", "backend_port": 1}]}, "nas_services[0].hostname: not set"),
        ({"nas_services": ["a.example.test"]}, "nas_services[0]: give a mapping"),
        (
            {
                "nas_services": [
                    {"name": "a", "hostname": "a.example.test", "backend_port": 1, "backend_protocol": "ftp"}
                ]
            },
            "backend_protocol: 'ftp'",
        ),
        (
            {"nas_services": [{"name": "a", "hostname": "a.example.test", "backend_port": 1, "backend_host": "-x"}]},
            "backend_host: '-x'",
        ),
        (
            {"nas_services": [{"name": "a", "hostname": "a.example.test", "backend_port": 1, "external_port": 8080}]},
            "Cloudflare's proxy does not pass 8080 over HTTPS",
        ),
        ({"tls_hostnames": ["*.*.example.test"]}, "tls_hostnames[0]"),
        (
            {"tls_certificate_source": "letsencrypt_dsm", "tls_hostnames": ["example.test", "*.example.test"]},
            "tls_hostnames[1]: *.example.test is a wildcard",
        ),
        (
            {"tls_certificate_source": "letsencrypt_dsm", "tls_hostnames": ["example.test"]},
            "is not covered by the certificate's names",
        ),
        ({"tls_hsts": {"max_age": 0}}, "tls_hsts.max_age: 0"),
        ({"tls_hsts": {"max_age": 31536000, "preload": True}}, "tls_hsts.preload needs include_subdomains"),
        ({"tls_zone_settings": {"min_tls_version": "1.5"}}, "tls_zone_settings.min_tls_version"),
        ({"tls_certificate_source": "pem", "tls_certificate": True, "tls_private_key": False}, "needs tls_certificate"),
        ({"dsm_port": 0}, "dsm_port: 0 is not a port"),
        ({"dsm_nas_port": 70000}, "dsm_nas_port: 70000 is not a port"),
        ({"hardening_dsm_https_port": 443}, "hardening_dsm_https_port: 443 is reserved"),
        ({"hardening_dsm_http_port": 80}, "hardening_dsm_http_port: 80 is reserved"),
        ({"hardening_dsm_http_port": 8443, "hardening_dsm_https_port": 8443}, "8443 is also http_port"),
        ({"hardening_dsm_https_port": "x"}, "hardening_dsm_https_port: 'x' is not a port"),
        (
            {"hardening_controller_address": "192.168.1.0/24"},
            "hardening_controller_address: '192.168.1.0/24' is not one",
        ),
        ({"hardening_controller_address": "nas.lan"}, "hardening_controller_address: 'nas.lan'"),
        ({"hardening_update_time": "24:00"}, "hardening_update_time: '24:00'"),
        ({"hardening_update_time": "3.30"}, "hardening_update_time: '3.30'"),
        ({"hardening_update_days": []}, "hardening_update_days: no day given"),
        ({"hardening_update_days": ["monkey"]}, "'monkey' is not a day"),
        ({"hardening_dos_interfaces": ["LAN 1"]}, "'LAN 1' is not an interface name"),
        ({"hardening_dos_interfaces": ["eth0", "eth0"]}, "listed twice"),
        ({"hardening_lan_networks": ["::/0"]}, "::/0 is every address"),
        ({"hardening_lan_networks": ["192.168.1/24"]}, "hardening_lan_networks[0]: '192.168.1/24' is not a network"),
        ({"hardening_lan_networks": [], "hardening_firewall": True}, "empty with hardening_firewall on"),
        ({"hardening_lan_ports": ["9000-8000"]}, "runs backwards"),
        ({"hardening_auto_block": {"expire_days": -1}}, "hardening_auto_block.expire_days"),
        ({"exposure_manage_router": False}, "set exposure_public_address"),
        ({"exposure_public_address": "100.127.255.254"}, "carrier-grade NAT"),
        ({"exposure_public_address": "10.1.2.3"}, "private or reserved"),
        ({"exposure_public_address": "fd00::1"}, "private or reserved"),
        ({"nas_lan_address": "nas.local"}, "nas_lan_address: 'nas.local' is not an IPv4 address"),
    ],
)
def test_each_mistake_is_named(changes, message):
    errors = plan_errors(with_(**changes))
    assert any(message in e for e in errors), errors


def test_messages_name_the_fix_and_every_mistake_is_listed():
    errors = plan_errors(
        with_(hardening_update_time="25:00", exposure_manage_router=False, hardening_lan_networks=["0.0.0.0/0"])
    )
    assert len(errors) == 3
    assert all(":" in e and ";" in e for e in errors)


def test_hostnames_compare_after_case_and_trailing_dot():
    twice = [
        {"name": "a", "hostname": "a.example.test", "backend_port": 1},
        {"name": "b", "hostname": "A.EXAMPLE.test.", "backend_port": 2},
    ]
    assert plan_errors(with_(nas_services=twice)) == [
        "nas_services[1].hostname: a.example.test is already the hostname of nas_services[0]; one hostname has one "
        "DNS record and one reverse proxy rule, so give each service its own"
    ]


def test_the_zone_apex_and_own_tls_hostnames_are_covered():
    apex = [
        {"name": "a", "hostname": "example.test", "backend_port": 1},
        {"name": "b", "hostname": "x.a.example.test", "backend_port": 1},
    ]
    assert plan_errors(with_(nas_services=apex, tls_hostnames=["example.test", "*.a.example.test"])) == []


def test_pem_certificates_are_not_checked_against_tls_hostnames():
    deep = [{"name": "a", "hostname": "x.a.example.test", "backend_port": 1}]
    assert (
        plan_errors(with_(nas_services=deep, tls_certificate_source="pem", tls_certificate=True, tls_private_key=True))
        == []
    )


def test_a_public_address_and_no_router_is_sound():
    assert plan_errors(with_(exposure_manage_router=False, exposure_public_address="198.18.0.1")) != []  # benchmark net
    assert plan_errors(with_(exposure_manage_router=False, exposure_public_address="2606:4700::1")) == []
    assert plan_errors(with_(exposure_manage_router=False, exposure_public_address="100.128.77.2")) == []


def test_router_behind_cgnat_names_the_tunnel_unless_the_router_is_not_used():
    router = {"external_address": "", "behind_cgnat": True}
    errors = plan_errors(GOOD, router=router)
    assert len(errors) == 1 and "(withheld by the router)" in errors[0] and "Cloudflare Tunnel" in errors[0]
    assert plan_errors(GOOD, router={"external_address": "100.128.77.2", "behind_cgnat": False}) == []
    assert plan_errors(with_(exposure_manage_router=False, exposure_public_address="100.128.77.2"), router=router) == []


def test_the_filter_returns_the_same_list_and_refuses_a_non_mapping():
    from ansible.errors import AnsibleFilterError

    func = plan_errors_filter.FilterModule().filters()["plan_errors"]
    assert func(with_(hardening_update_time="25:00")) == plan_errors(with_(hardening_update_time="25:00"))
    with pytest.raises(AnsibleFilterError):
        func(["nas_zone"])


def test_an_absent_service_needs_only_its_name():
    services = GOOD["nas_services"] + [
        {"name": "old", "state": "absent"},
        # Its other fields are not checked: what it published is found by the mark, not by them.
        {"name": "older", "state": "absent", "hostname": "x.other.test", "external_port": 22},
    ]
    assert plan_errors(dict(GOOD, nas_services=services)) == []
    errors = plan_errors(dict(GOOD, nas_services=[{"state": "absent"}, {"name": "photos", "state": "gone"}]))
    assert any(e.startswith("nas_services[0].name: not set") for e in errors)
    assert any(e.startswith("nas_services[1].state: 'gone' is neither present nor absent") for e in errors)
    # Names stay unique across present and absent services: the mark names the service.
    twice = plan_errors(dict(GOOD, nas_services=GOOD["nas_services"] + [{"name": "Photos", "state": "absent"}]))
    assert any(e.startswith("nas_services[2].name: 'Photos' is already the name") for e in twice)


def test_tunnel_mode_needs_no_public_address_and_refuses_origin_pulls():
    router = {"external_address": "100.64.0.9", "behind_cgnat": True}
    tunnel = with_(exposure_mode="tunnel", exposure_manage_router=False, tls_authenticated_origin_pulls=False)
    assert plan_errors(tunnel, router=router) == []  # CGNAT is what the tunnel is for
    errors = plan_errors(with_(exposure_mode="tunnel", tls_authenticated_origin_pulls=True))
    assert len(errors) == 1 and errors[0].startswith("tls_authenticated_origin_pulls: true cannot work")
    (ddns,) = plan_errors(dict(tunnel, exposure_ddns="cloudflare"))
    assert ddns.startswith("exposure_ddns: cloudflare keeps A records")
    assert plan_errors(with_(exposure_mode="vpn")) == ["exposure_mode: 'vpn' is not one of port_forward, tunnel"]
    # port_forward behind CGNAT names the mode that fixes it.
    (error,) = plan_errors(GOOD, router=router)
    assert "exposure_mode: tunnel" in error
