"""site.yml ends with the verify role: what a visitor (through the lab's Cloudflare edge) and an attacker
(straight to the nginx tree) see. Passing when the run left a sound state, failing with a message that
names the problem when not."""

from __future__ import annotations

import re

from tests.lab.dsm_nginx import tree
from tests.lab.mock_cloudflare.seed import ZONE_ID


def require_client_certificate(root, ca_path):
    """The AOP part of the nginx patch, written straight into the tree (the role's own tests cover the role)."""
    path = tree.server_file(root)
    with open(path, encoding="utf-8") as handle:
        text = re.sub(
            r"(server_name [^;]+;)",
            r"\1\n    ssl_verify_client on;\n    ssl_client_certificate %s;" % ca_path,
            handle.read(),
        )
    with open(path, "w", encoding="utf-8") as out:
        out.write(text)
    assert tree.nginx(root, "-s", "reload").returncode == 0


def verify_tasks(stdout):
    return stdout.split("PLAY [Check what a visitor and an attacker see]", 1)[1]


def test_site_ends_with_verify_passing(site):
    run = site()
    assert run.returncode == 0, run.stdout[-4000:]
    tail = verify_tasks(run.stdout)
    assert (
        "photos.example.test through Cloudflare: HTTP 200 over TLSv1.3, HSTS max-age=15552000; includeSubDomains"
        in tail
    )
    assert "media.example.test through Cloudflare: HTTP 200" in tail
    assert "http://photos.example.test: HTTP 301 https://photos.example.test/" in tail
    assert "straight to the origin without Cloudflare's certificate: HTTP 200" in tail  # AOP off: reported, not failed
    assert "failed=0" in tail


def test_verify_fails_when_origin_pulls_are_expected_but_not_enforced(site):
    # AOP stays off (the lab's default) while verify is told it must be on: the origin answers anyone.
    run = site(verify_origin_pulls=True)
    assert run.returncode != 0
    assert re.search(
        r"photos\.example\.test: the origin at 127\.0\.0\.1:\d+ answered HTTP 200 to a client without "
        r"Cloudflare's origin-pull certificate, so Authenticated Origin Pulls are not enforced",
        verify_tasks(run.stdout),
    ), verify_tasks(run.stdout)[-3000:]


def test_origin_requiring_the_certificate_while_cloudflare_sends_none_is_named(site, lab_origin, cloudflare_lab):
    require_client_certificate(lab_origin, cloudflare_lab.info["origin_pull_ca_path"])
    run = site()
    assert run.returncode != 0
    assert "photos.example.test through Cloudflare: HTTP 400: the origin refused Cloudflare's request" in run.stdout


def test_with_origin_pulls_on_both_sides_verify_passes(site, lab_origin, cloudflare_lab):
    require_client_certificate(lab_origin, cloudflare_lab.info["origin_pull_ca_path"])
    run = site(tls_authenticated_origin_pulls=True)
    assert run.returncode == 0, verify_tasks(run.stdout)[-4000:]
    assert cloudflare_lab.state()["settings"][ZONE_ID]["tls_client_auth"]["value"] == "on"
    assert "straight to the origin without Cloudflare's certificate: refused (HTTP 400)" in verify_tasks(run.stdout)


def test_weak_zone_settings_are_named(site):
    run = site(
        tls_zone_settings={"ssl": "strict", "min_tls_version": "1.0", "always_use_https": "off"},
        verify_https_redirect=True,
    )
    assert run.returncode != 0
    tail = verify_tasks(run.stdout)
    assert "Cloudflare's min_tls_version is below 1.2" in tail
