"""The verify role's checks, over every hostname at once (homelab.nas.verify_findings) and the nginx_patches role's
step check (homelab.nas.failed_probes): each check passes on what a sound site shows and names the hostname and
the cause when it does not."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.nas.plugins.module_utils.verify_checks import CHECKS, failed_probes, verify_findings

CERT = {"sans": ["*.example.test"], "not_after": "2041-11-27T00:00:00+00:00", "days_left": 5470}
HSTS = "max-age=15552000; includeSubDomains"


def visitor(name, **extra):
    return dict(
        {
            "server_name": name,
            "tls_established": True,
            "tls_version": "TLSv1.3",
            "status": 200,
            "headers": {"strict-transport-security": HSTS},
            "certificate": CERT,
            "covers": True,
            "error": None,
        },
        **extra,
    )


def refused(name, **extra):
    return dict(
        {"server_name": name, "tls_established": False, "status": None, "error": "TLS handshake failed"}, **extra
    )


def redirect(name, **extra):
    return dict(
        {"server_name": name, "status": 301, "headers": {"location": "https://%s/" % name}, "error": None}, **extra
    )


def spec(names=("a.example.test", "b.example.test"), **changes):
    base = {
        "hostnames": list(names),
        "visitors": [visitor(n) for n in names],
        "old_clients": [refused(n) for n in names],
        "plain": [redirect(n) for n in names],
        "attackers": [visitor(n, status=400) for n in names],
        "min_tls_version": "1.2",
        "older_tls": "1.1",
        "hsts": {"max_age": 15552000, "include_subdomains": True},
        "https_redirect": True,
        "origin_pulls": True,
        "origin": "203.0.113.7:443",
        "certificate_min_days": 30,
        "cloudflare_errors": {526: "the origin's certificate is not valid"},
    }
    base.update(changes)
    return base


def test_a_sound_site_fails_no_check_and_shows_five_lines_per_hostname():
    found = verify_findings(spec())
    assert found["failures"] == {check: [] for check in CHECKS}
    assert len(found["seen"]) == 10
    assert found["seen"][0] == "a.example.test through Cloudflare: HTTP 200 over TLSv1.3, HSTS " + HSTS
    assert found["seen"][3] == "straight to the origin without Cloudflare's certificate: refused (HTTP 400)"
    assert found["seen"][5].startswith("b.example.test through Cloudflare")


def test_an_error_answer_is_explained_by_cloudflare_s_meaning():
    found = verify_findings(spec(visitors=[visitor("a.example.test", status=526), visitor("b.example.test")]))
    assert found["failures"]["tls"] == [
        "a.example.test through Cloudflare: HTTP 526: the origin's certificate is not valid"
    ]


def test_an_old_tls_client_accepted_is_named():
    old = [refused("a.example.test"), visitor("b.example.test", tls_version="TLSv1.1")]
    (message,) = verify_findings(spec(old_clients=old))["failures"]["old_tls"]
    assert message.startswith("b.example.test accepted a client offering at most TLS 1.1 (TLSv1.1)")


@pytest.mark.parametrize(
    "header,fails",
    [(HSTS, False), ("includesubdomains ; MAX-AGE=15552000", False), ("max-age=300", True), (None, True)],
)
def test_hsts_is_compared_as_a_set_of_directives(header, fails):
    headers = {"strict-transport-security": header} if header else {}
    visitors = [visitor("a.example.test", headers=headers), visitor("b.example.test")]
    assert bool(verify_findings(spec(visitors=visitors))["failures"]["hsts"]) is fails
    assert not verify_findings(spec(visitors=visitors, hsts=None))["failures"]["hsts"]


def test_a_redirect_elsewhere_is_not_a_redirect_to_https():
    plain = [
        redirect("a.example.test", headers={"location": "https://a.example.test.evil.test/"}),
        redirect("b.example.test"),
    ]
    (message,) = verify_findings(spec(plain=plain))["failures"]["redirect"]
    assert message.startswith("http://a.example.test answered HTTP 301 https://a.example.test.evil.test/")
    assert not verify_findings(spec(plain=plain, https_redirect=False))["failures"]["redirect"]


def test_certificates_name_their_side_and_cause():
    short = dict(CERT, days_left=3)
    found = verify_findings(
        spec(
            visitors=[visitor("a.example.test", covers=False), visitor("b.example.test")],
            attackers=[visitor("a.example.test", status=400), visitor("b.example.test", status=400, certificate=short)],
        )
    )
    assert [m.split(" (")[0] for m in found["failures"]["certificates"]] == [
        "a.example.test: the edge certificate",
        "b.example.test: the origin certificate",
    ]
    assert "does not cover it" in found["failures"]["certificates"][0]
    assert "expires in 3 days (less than 30)" in found["failures"]["certificates"][1]


def test_an_origin_answering_without_the_client_certificate_fails_only_with_origin_pulls():
    attackers = [visitor("a.example.test"), visitor("b.example.test", status=400)]
    (message,) = verify_findings(spec(attackers=attackers))["failures"]["origin_pulls"]
    assert message.startswith("a.example.test: the origin at 203.0.113.7:443 answered HTTP 200")
    assert not verify_findings(spec(attackers=attackers, origin_pulls=False))["failures"]["origin_pulls"]


def test_unprobed_sides_are_said_so_and_checked_by_nothing():
    found = verify_findings(spec(plain=[], attackers=[]))
    assert found["failures"] == {check: [] for check in CHECKS}
    assert found["seen"][1] == "http://a.example.test: not checked"
    assert found["seen"][3].endswith("not checked (verify_origin_address unset)")
    assert found["seen"][4] == "origin certificate: not seen"


def test_failed_probes_says_what_each_failing_hostname_got():
    probes = [visitor("a.example.test"), visitor("b.example.test", status=400), refused("c.example.test")]
    assert failed_probes(probes) == ["b.example.test answered HTTP 400", "c.example.test: TLS handshake failed"]
    assert failed_probes([]) == []
