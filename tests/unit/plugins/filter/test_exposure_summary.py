"""The summary site.yml ends with: what a person reads about what is now exposed."""

from __future__ import annotations

from ansible_collections.homelab.nas.plugins.filter import exposure_summary as plugin

summary = plugin.FilterModule().filters()["exposure_summary"]

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
]
CERT = {"sans": ["example.test", "*.example.test"], "not_after": "2041-11-27", "days_left": 5470}


def probe(hostname, status=200, hsts="max-age=15552000; includeSubDomains", **extra):
    return dict(
        server_name=hostname,
        status=status,
        tls_version="TLSv1.3",
        headers={"strict-transport-security": hsts},
        certificate=CERT,
        error=None,
        **extra,
    )


def hardened(**overrides):
    declared = {
        "services": SERVICES,
        "zone_settings": {"ssl": "strict", "min_tls_version": "1.2", "always_use_https": "on"},
        "hsts": {"max_age": 15552000, "include_subdomains": True, "preload": False},
        "origin_pulls": True,
        "public_address": "203.0.113.7",
        "manage_router": True,
        "router": {
            "external_address": "203.0.113.7",
            "mappings": [
                {"protocol": "tcp", "external_port": 443, "internal_client": "192.168.1.10", "internal_port": 443}
            ],
        },
        "firewall": True,
        "lan_networks": ["192.168.0.0/16"],
        "lan_ports": ["smb"],
        "dsm_port": 5001,
        "two_factor": "administrators",
        "visitors": [probe("photos.example.test"), probe("media.example.test")],
        "attackers": [dict(probe("photos.example.test", status=400)), dict(probe("media.example.test", status=None))],
    }
    declared.update(overrides)
    return declared


def test_a_hardened_site_reads_as_such_and_leaves_nothing_by_hand():
    lines = summary(hardened())
    assert lines[1] == (
        "  https://photos.example.test -> http://localhost:8080: HTTP 200 over TLSv1.3, "
        "HSTS max-age=15552000; includeSubDomains"
    )
    assert lines[2].startswith("  https://media.example.test:8443 -> http://192.168.1.20:8096 (WebSocket): HTTP 200")
    assert (
        "Cloudflare: SSL Full (strict), minimum TLS 1.2, Always Use HTTPS on, HSTS max-age=15552000; includeSubDomains"
        in lines
    )
    assert "Origin certificate: example.test *.example.test, until 2041-11-27 (5470 days)" in lines
    assert "Authenticated Origin Pulls: on (the origin refused a client without Cloudflare's certificate)" in lines
    assert "Router 203.0.113.7: tcp/443 -> 192.168.1.10:443" in lines
    assert any(line.startswith("DSM firewall: default deny; 192.168.0.0/16 may reach DSM 5001, smb") for line in lines)
    assert lines[-1] == "Left to do by hand: nothing"


def test_what_is_left_by_hand_is_named_with_the_variable_that_fixes_it():
    lines = summary(
        hardened(
            origin_pulls=False,
            two_factor="none",
            firewall=False,
            manage_router=False,
            zone_settings={"ssl": "full"},
            router={"skipped": True},
        )
    )
    todo = lines[lines.index("Left to do by hand:") + 1 :]
    assert any("tls_zone_settings.ssl: strict" in item for item in todo)
    assert any("tls_authenticated_origin_pulls: true" in item for item in todo)
    assert any("hardening_two_factor" in item for item in todo)
    assert any("hardening_firewall" in item for item in todo)
    assert "Router: not managed by this run; forward TCP 443, 8443 to the NAS by hand" in lines
    assert any("anyone who finds 203.0.113.7 reaches the origin" in line for line in lines)


def test_what_the_probes_saw_wins_over_what_was_declared():
    # AOP declared on, but the origin answered a client without Cloudflare's certificate; one host fails.
    lines = summary(
        hardened(
            attackers=[probe("photos.example.test", status=200)],
            visitors=[probe("photos.example.test", status=526), probe("media.example.test")],
        )
    )
    assert any("but the origin answers without its certificate for photos.example.test" in line for line in lines)
    assert "  - not answering through Cloudflare: photos.example.test (see the checks above)" in lines


def test_nothing_probed_or_managed_is_said_so():
    lines = summary({"services": [SERVICES[0], dict(SERVICES[1], state="absent")]})
    assert lines[1] == "  https://photos.example.test -> http://localhost:8080: not checked"
    assert len([line for line in lines if line.startswith("  https://")]) == 1  # absent services are not published
    assert "Cloudflare: zone settings not managed by this run" in lines
    assert "Origin certificate: not seen" in lines and "DSM firewall: not managed by this run" in lines
    assert "2-step verification: not managed by this run" in lines


def test_tunnel_mode_reports_no_forwards_and_the_lan_only_firewall():
    lines = summary(hardened(mode="tunnel", router={"skipped": True}))
    assert "Router: no forwards (exposure_mode: tunnel; the tunnel's connector on the NAS connects out)" in lines
    (firewall,) = [line for line in lines if line.startswith("DSM firewall")]
    assert firewall.endswith("the published ports are open to the LAN only (tunnel)")
