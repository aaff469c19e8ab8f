"""site.yml's planning step against the lab: each role-variable mistake stops the run before the first write.

Every case runs the whole shipped site.yml and checks three things that can each fail: the run failed, in a
pre_task (not in a role half-way through), with a message naming the variable; and the DSM, router and
Cloudflare mocks hold byte-for-byte the state they held before.
"""

from __future__ import annotations

import json
import re

import pytest

SERVICE = {"name": "photos", "hostname": "photos.example.test", "backend_port": 8080}
PLAN = "Plan the declared state; refuse every mistake before anything changes"
SPEC = "Check every role's variables before anything changes"
ROUTER = "Refuse publishing through a router the internet cannot reach"


def services(*extra):
    return {"nas_services": [SERVICE, *extra]}


MISTAKES = [
    (
        "outside-zone",
        services({"name": "x", "hostname": "x.other.test", "backend_port": 80}),
        "nas_services[1].hostname: x.other.test is not in nas_zone example.test",
    ),
    (
        "deeper-than-wildcard",
        services({"name": "x", "hostname": "a.b.example.test", "backend_port": 80}),
        "a.b.example.test is not covered by the certificate",
    ),
    (
        "not-in-own-tls-hostnames",
        {**services(), "tls_hostnames": ["example.test", "nas.example.test"]},
        "photos.example.test is not covered by the certificate",
    ),
    (
        "tls-hostname-outside-zone",
        {"tls_hostnames": ["example.test", "*.example.test", "other.test"]},
        "tls_hostnames[2]: other.test is not in nas_zone",
    ),
    (
        "bad-hostname",
        services({"name": "x", "hostname": "bad_name.example.test", "backend_port": 80}),
        "nas_services[1].hostname: 'bad_name.example.test' is not a valid hostname",
    ),
    (
        "wildcard-service",
        services({"name": "x", "hostname": "*.example.test", "backend_port": 80}),
        "nas_services[1].hostname: '*.example.test' is not a valid hostname",
    ),
    (
        "duplicate-name",
        services({"name": "Photos", "hostname": "p2.example.test", "backend_port": 80}),
        "nas_services[1].name: 'Photos' is already the name of nas_services[0]",
    ),
    (
        "duplicate-hostname-normalised",
        services({"name": "p2", "hostname": "Photos.Example.Test.", "backend_port": 81}),
        "nas_services[1].hostname: photos.example.test is already the hostname of nas_services[0]",
    ),
    (
        "backend-port-range",
        services({"name": "x", "hostname": "x.example.test", "backend_port": 70000}),
        "nas_services[1].backend_port: 70000 is not a port",
    ),
    (
        "backend-port-zero",
        services({"name": "x", "hostname": "x.example.test", "backend_port": 0}),
        "nas_services[1].backend_port: 0 is not a port",
    ),
    (
        "external-port-not-proxied",
        services({"name": "x", "hostname": "x.example.test", "backend_port": 80, "external_port": 22}),
        "nas_services[1].external_port: Cloudflare's proxy does not pass 22",
    ),
    (
        "hsts-preload-short-max-age",
        {"tls_hsts": {"max_age": 15552000, "include_subdomains": True, "preload": True}},
        "tls_hsts.preload needs max_age of at least 31536000",
    ),
    (
        "hsts-preload-no-subdomains",
        {"tls_hsts": {"max_age": 31536000, "include_subdomains": False, "preload": True}},
        "tls_hsts.preload needs include_subdomains: true",
    ),
    (
        "zone-setting-value",
        {"tls_zone_settings": {"ssl": "strictest"}},
        "tls_zone_settings.ssl: 'strictest' is not an SSL/TLS encryption mode",
    ),
    (
        "pem-without-key",
        {"tls_certificate_source": "pem", "tls_certificate": "cert.pem"},
        "tls_certificate_source: pem needs tls_certificate and tls_private_key",
    ),
    ("update-time-25", {"hardening_update_time": "25:00"}, "hardening_update_time: '25:00' is not a time of day"),
    ("update-time-minutes", {"hardening_update_time": "03:60"}, "hardening_update_time: '03:60' is not a time of day"),
    ("update-day", {"hardening_update_days": ["sun", "funday"]}, "hardening_update_days: 'funday' is not a day"),
    (
        "unknown-interface",
        {"hardening_dos_interfaces": ["eth0", "lan1"]},
        "hardening_dos_interfaces: 'lan1' is not an interface name DSM uses",
    ),
    (
        "lan-everything",
        {"hardening_lan_networks": ["127.0.0.0/8", "0.0.0.0/0"]},
        "hardening_lan_networks[1]: 0.0.0.0/0 is every address",
    ),
    ("lan-host-bits", {"hardening_lan_networks": ["127.0.0.1/8"]}, "(host bits are set: use the network address)"),
    (
        "lan-empty-firewall-on",
        {"hardening_lan_networks": []},
        "hardening_lan_networks: empty with hardening_firewall on",
    ),
    ("lan-port", {"hardening_lan_ports": ["smb", "70000"]}, "hardening_lan_ports[1]: 70000 is not a port"),
    (
        "auto-block-attempts",
        {"hardening_auto_block": {"attempts": 0, "within_minutes": 5, "expire_days": 0}},
        "hardening_auto_block.attempts: 0 is not a whole number of at least 1",
    ),
    ("login-as-admin", {"dsm_username": "admin"}, "dsm_username: admin is the account"),
    (
        "no-router-no-address",
        {"exposure_manage_router": False},
        "exposure_manage_router: false leaves no address for the DNS records",
    ),
    (
        "cgnat-public-address",
        {"exposure_public_address": "100.64.12.7"},
        "exposure_public_address: 100.64.12.7 is a carrier-grade NAT address",
    ),
    (
        "private-public-address",
        {"exposure_manage_router": False, "exposure_public_address": "192.168.1.5"},
        "exposure_public_address: 192.168.1.5 is a private or reserved address",
    ),
    (
        "public-address-not-ip",
        {"exposure_public_address": "home.example.test"},
        "exposure_public_address: 'home.example.test' is not an IP address",
    ),
    ("lan-address-ipv6", {"nas_lan_address": "fd00::10"}, "nas_lan_address: 'fd00::10' is not an IPv4 address"),
    ("single-label-zone", {"nas_zone": "lab", "nas_services": []}, "nas_zone: 'lab' is a single label"),
]


def snapshot(*labs):
    return [json.dumps(lab.state(), sort_keys=True) for lab in labs]


def failed_task(stdout):
    """The name of the task the host failed in (the last task header before the first fatal line)."""
    head = stdout.split("fatal: [lab-nas]")[0]
    names = re.findall(r"^TASK \[(.*)\] \*+$", head, flags=re.M)
    return names[-1] if names else None


def assert_refused_untouched(run, before, labs, message, task=PLAN):
    assert run.returncode != 0, run.stdout[-3000:]
    assert failed_task(run.stdout) == task, run.stdout[-3000:]
    assert message in run.stdout, run.stdout[-3000:]
    assert snapshot(*labs) == before


@pytest.mark.parametrize("overrides,message", [m[1:] for m in MISTAKES], ids=[m[0] for m in MISTAKES])
def test_mistake_is_refused_before_anything_changes(site, dsm_lab, router_lab, cloudflare_lab, overrides, message):
    labs = (dsm_lab, router_lab, cloudflare_lab)
    before = snapshot(*labs)
    assert_refused_untouched(site(**overrides), before, labs, message)


def test_router_behind_cgnat_is_refused_naming_the_tunnel(site, dsm_lab, router_lab, cloudflare_lab):
    router_lab.configure(external_ip="100.64.77.2")  # the mock withholds a reserved WAN address, as miniupnpd does
    labs = (dsm_lab, router_lab, cloudflare_lab)
    before = snapshot(*labs)
    assert_refused_untouched(site(), before, labs, "exposure_mode: tunnel", task=ROUTER)


def test_type_mistakes_still_stop_at_the_argument_specs(site, dsm_lab, router_lab, cloudflare_lab):
    labs = (dsm_lab, router_lab, cloudflare_lab)
    before = snapshot(*labs)
    assert_refused_untouched(site(hardening_two_factor="everyone"), before, labs, "hardening_two_factor", task=SPEC)


def test_every_mistake_is_reported_in_one_run(site, dsm_lab, router_lab, cloudflare_lab):
    labs = (dsm_lab, router_lab, cloudflare_lab)
    before = snapshot(*labs)
    run = site(
        hardening_update_time="25:00",
        hardening_dos_interfaces=["lan1"],
        exposure_manage_router=False,
        **services({"name": "photos", "hostname": "a.b.example.test", "backend_port": 80}),
    )
    for message in (
        "hardening_update_time",
        "hardening_dos_interfaces",
        "exposure_manage_router: false",
        "is already the name",
        "not covered by the certificate",
    ):
        assert_refused_untouched(run, before, labs, message)


def test_a_run_without_the_exposure_role_does_not_ask_the_router(site, router_lab):
    router_lab.configure(external_ip="100.64.77.2")
    run = site("--tags", "hardening", "--check")
    assert run.returncode == 0, run.stdout[-3000:]
    probe = run.stdout.split("TASK [Read the router's WAN address, writing nothing]")[1].split("TASK [")[0]
    assert "skipping: [lab-nas]" in probe and "Cloudflare Tunnel" not in run.stdout


DDNS_MISTAKES = [
    (
        "bad-token",
        {"exposure_ddns": "cloudflare", "exposure_ddns_cloudflare_token": "not a 'token' $(reboot)"},
        "exposure_ddns_cloudflare_token: give the NAS's own Cloudflare API token",
    ),
    (
        "fixed-address-with-ddns",
        {"exposure_ddns": "cloudflare", "exposure_public_address": "100.128.77.2"},
        "exposure_public_address: 100.128.77.2 pins them to that address",
    ),
]


@pytest.mark.parametrize("overrides,message", [m[1:] for m in DDNS_MISTAKES], ids=[m[0] for m in DDNS_MISTAKES])
def test_ddns_mistakes_are_refused_before_anything_changes_and_the_token_is_not_repeated(
    site, dsm_lab, router_lab, cloudflare_lab, overrides, message
):
    labs = (dsm_lab, router_lab, cloudflare_lab)
    before = snapshot(*labs)
    run = site(**overrides)
    assert_refused_untouched(run, before, labs, message, task="Check the DDNS variables before anything changes")
    assert "$(reboot)" not in run.stdout + run.stderr
