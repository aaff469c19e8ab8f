"""site.yml ends with the verify role: what a visitor (through the lab's Cloudflare edge) and an attacker
(straight to the nginx tree) see. Passing when the run left a sound state, failing with a message that
names the problem when not."""

from __future__ import annotations

import json
import re
import ssl
import urllib.request

from tests.lab.mock_cloudflare.seed import LAB_TOKEN, ZONE_ID


def verify_tasks(stdout):
    return stdout.split("TASK [homelab.nas.verify", 1)[1]


def cloudflare_setting(cloudflare_lab, setting, value):
    """A change made in Cloudflare's dashboard, outside the run."""
    request = urllib.request.Request(
        "%s/zones/%s/settings/%s" % (cloudflare_lab.api_base_url, ZONE_ID, setting),
        data=json.dumps({"value": value}).encode(),
        method="PATCH",
        headers={"Authorization": "Bearer " + LAB_TOKEN, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=cloudflare_lab.ca_path)) as reply:
        return json.load(reply)


def test_site_ends_with_verify_passing(site, cloudflare_lab):
    # The lab turns Authenticated Origin Pulls on (tls) and the nginx patch makes the origin require them.
    run = site()
    assert run.returncode == 0, run.stdout[-4000:]
    assert cloudflare_lab.state()["settings"][ZONE_ID]["tls_client_auth"]["value"] == "on"
    tail = verify_tasks(run.stdout)
    assert (
        "photos.example.test through Cloudflare: HTTP 200 over TLSv1.3, HSTS max-age=15552000; includeSubDomains"
        in tail
    )
    assert "media.example.test through Cloudflare: HTTP 200" in tail
    assert "http://photos.example.test: HTTP 301 https://photos.example.test/" in tail
    assert "straight to the origin without Cloudflare's certificate: refused (HTTP 400)" in tail
    assert "failed=0" in tail


def test_verify_fails_when_origin_pulls_are_expected_but_not_enforced(site):
    # Cloudflare presents its certificate, but nginx only asks for it: the origin answers anyone.
    run = site(nginx_patches_verify_client="optional")
    assert run.returncode != 0
    assert re.search(
        r"photos\.example\.test: the origin at 127\.0\.0\.1:\d+ answered HTTP 200 to a client without "
        r"Cloudflare's origin-pull certificate, so Authenticated Origin Pulls are not enforced",
        verify_tasks(run.stdout),
    ), verify_tasks(run.stdout)[-3000:]


def test_origin_requiring_the_certificate_while_cloudflare_sends_none_is_named(site, cloudflare_lab):
    assert site().returncode == 0  # the origin requires Cloudflare's certificate
    # Then Cloudflare stops sending it (someone in the dashboard) while the patch stays.
    cloudflare_setting(cloudflare_lab, "tls_client_auth", "off")
    run = site("--tags", "verify")
    assert run.returncode != 0
    assert "photos.example.test through Cloudflare: HTTP 400: the origin refused Cloudflare's request" in run.stdout


def test_weak_zone_settings_are_named(site):
    run = site(
        tls_zone_settings={"ssl": "strict", "min_tls_version": "1.0", "always_use_https": "off"},
        verify_https_redirect=True,
    )
    assert run.returncode != 0
    tail = verify_tasks(run.stdout)
    assert "Cloudflare's min_tls_version is below 1.2" in tail
