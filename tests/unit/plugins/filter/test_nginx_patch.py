"""The nginx_patches role's variable check (module_utils/nginx_patch.py, the nginx_patch_errors filter)."""

from __future__ import annotations

import datetime
import os

import pytest
from ansible.errors import AnsibleFilterError
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from ansible_collections.homelab.nas.plugins.filter import nginx_patch_errors as nginx_filter
from ansible_collections.homelab.nas.plugins.module_utils.nas_validate import plan_errors
from ansible_collections.homelab.nas.plugins.module_utils.nginx_patch import (
    CLOUDFLARE_ORIGIN_PULL_CA_SHA256,
    CLOUDFLARE_ORIGIN_PULL_CA_URL,
    ca_text,
    nginx_patch_errors,
)
from tests.lab import pki

CA = pki.pem(pki.TestPki().root).decode()
GOOD = {
    "nginx_patches_root": "/",
    "nginx_patches_dsm_layout": "dsm7",
    "nginx_patches_conf_dir": "/etc/nginx",
    "nginx_patches_server_files": ["/etc/nginx/sites-enabled/server.ReverseProxy.conf"],
    "nginx_patches_test_command": "nginx -t",
    "nginx_patches_reload_command": "/usr/syno/bin/synosystemctl reload nginx",
    "nginx_patches_hostnames": ["photos.example.com", "Media.Example.com.", "*.apps.example.com"],
    "nginx_patches_client_ca": CA,
    "nginx_patches_verify_client": "on",
    "nginx_patches_real_ip_from": ["173.245.48.0/20", "2400:cb00::/32"],
    "nginx_patches_extra_directives": ["ssl_verify_depth 2;", 'add_header X-Origin "nas lab";'],
    "nginx_patches_task_name": "homelab.nas nginx patch",
    "nginx_patches_every_minutes": "5",
}


def errors_with(**changes):
    return nginx_patch_errors(dict(GOOD, **changes))


def test_sound_variables_pass_and_an_empty_host_list_is_allowed():
    assert nginx_patch_errors(GOOD) == []
    assert errors_with(nginx_patches_hostnames=[], nginx_patches_verify_client="optional") == []
    assert errors_with(nginx_patches_every_minutes=30, nginx_patches_verify_client="off") == []


@pytest.mark.parametrize(
    "field, value, fragment",
    [
        ("nginx_patches_hostnames", ["photos example.com"], "nginx_patches_hostnames[0]: 'photos example.com'"),
        ("nginx_patches_hostnames", ["ok.example.com", "a;b.example.com"], "nginx_patches_hostnames[1]"),
        ("nginx_patches_real_ip_from", ["10.0.0.1/8"], "nginx_patches_real_ip_from[0]: '10.0.0.1/8' has host bits"),
        ("nginx_patches_real_ip_from", ["cloudflare"], "nginx_patches_real_ip_from[0]: 'cloudflare' is not an IP"),
        ("nginx_patches_extra_directives", ["ssl_verify_depth 2"], "nginx_patches_extra_directives[0]"),
        ("nginx_patches_extra_directives", ["a 1;\nreturn 200;"], "nginx_patches_extra_directives[0]"),
        ("nginx_patches_extra_directives", ["a 1; b 2;"], "no newline, block, comment or second directive"),
        ("nginx_patches_extra_directives", ["location / { return 200; }"], "nginx_patches_extra_directives[0]"),
        ("nginx_patches_extra_directives", ['add_header X "a;'], "nginx_patches_extra_directives[0]"),
        ("nginx_patches_extra_directives", ["x 1; # note"], "nginx_patches_extra_directives[0]"),
        ("nginx_patches_verify_client", True, "YAML's boolean; quote the word"),
        ("nginx_patches_verify_client", "require", "nginx_patches_verify_client: 'require' is not one of"),
        ("nginx_patches_dsm_layout", "dsm8", "nginx_patches_dsm_layout: 'dsm8'"),
        ("nginx_patches_every_minutes", 7, "nginx_patches_every_minutes: 7 is not a repeat"),
        ("nginx_patches_test_command", "nginx -t\nreboot", "nginx_patches_test_command: give it as one"),
        ("nginx_patches_reload_command", " ", "nginx_patches_reload_command"),
        ("nginx_patches_root", "/volume1", "nginx_patches_root: '/volume1' must end with '/'"),
        ("nginx_patches_conf_dir", "/etc/my nginx", "nginx_patches_conf_dir: '/etc/my nginx' is not an absolute"),
        ("nginx_patches_server_files", ["etc/nginx/x.conf"], "nginx_patches_server_files[0]"),
        ("nginx_patches_server_files", [], "nginx_patches_server_files: give the list"),
        ("nginx_patches_client_ca", "", "nginx_patches_client_ca: no PEM certificate found"),
        ("nginx_patches_client_ca", CA + "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----", "besides PEM"),
        ("nginx_patches_client_ca", CA.replace("\n", "\nHOMELAB_NAS_CA\n", 1), "besides PEM certificates"),
    ],
)
def test_each_mistake_names_the_variable(field, value, fragment):
    errors = errors_with(**{field: value})
    assert len(errors) == 1 and fragment in errors[0], errors


def test_every_mistake_at_once():
    errors = errors_with(nginx_patches_hostnames=["-bad"], nginx_patches_real_ip_from=["x"], nginx_patches_root="rel/")
    assert [e.split(":", maxsplit=1)[0] for e in errors] == [
        "nginx_patches_hostnames[0]",
        "nginx_patches_real_ip_from[0]",
        "nginx_patches_root",
    ]


def test_verify_on_without_origin_pulls_would_refuse_every_visitor():
    problem = errors_with(tls_authenticated_origin_pulls=False)
    assert len(problem) == 1 and "tls_authenticated_origin_pulls: true" in problem[0]
    assert errors_with(tls_authenticated_origin_pulls=False, nginx_patches_verify_client="optional") == []
    assert errors_with(tls_authenticated_origin_pulls=True) == []


def test_the_site_plan_includes_the_nginx_rules_only_when_they_are_declared():
    declared = {"nas_zone": "example.com", "tls_authenticated_origin_pulls": False}
    assert not [e for e in plan_errors(declared) if e.startswith("nginx_patches")]
    found = plan_errors(dict(declared, nginx_patches_verify_client="on", nginx_patches_extra_directives=["x\ny;"]))
    assert [e.split(":", maxsplit=1)[0] for e in found if e.startswith("nginx_patches")] == [
        "nginx_patches_extra_directives[0]",
        "nginx_patches_verify_client",
    ]


def test_the_filter_refuses_a_non_mapping_and_the_ca_is_carried_line_by_line():
    run = nginx_filter.FilterModule().filters()["nginx_patch_errors"]
    assert run(GOOD) == []
    with pytest.raises(AnsibleFilterError):
        run(["nginx_patches_hostnames"])
    assert ca_text("  " + CA.replace("\n", "\r\n") + "\n\n").splitlines() == CA.strip().splitlines()


def _sha256(pem_text):
    return x509.load_pem_x509_certificate(pem_text.encode()).fingerprint(hashes.SHA256()).hex(":").upper()


def test_the_origin_pull_ca_must_carry_a_pinned_fingerprint():
    pin = _sha256(CA)
    assert errors_with(nginx_patches_client_ca_sha256=[pin]) == []
    # Colons and case do not matter; [] accepts any CA (a CA of one's own that is not pinned).
    assert errors_with(nginx_patches_client_ca_sha256=[pin.replace(":", "").lower()]) == []
    assert errors_with(nginx_patches_client_ca_sha256=[]) == []
    other = errors_with(nginx_patches_client_ca_sha256=[CLOUDFLARE_ORIGIN_PULL_CA_SHA256])
    assert len(other) == 1 and other[0].startswith("nginx_patches_client_ca: the certificate CN=")
    assert pin in other[0] and "is not in nginx_patches_client_ca_sha256" in other[0]
    assert CLOUDFLARE_ORIGIN_PULL_CA_URL in other[0]
    # A bundle is refused when any of its certificates is not pinned.
    two = CA + pki.pem(pki.TestPki().root).decode()
    assert len(errors_with(nginx_patches_client_ca=two, nginx_patches_client_ca_sha256=[pin])) == 1


@pytest.mark.parametrize("pins", ["AB:CD", ["not-hex" * 9], [64 * "G"], [None]])
def test_a_malformed_pin_list_is_refused_naming_the_shape(pins):
    problem = errors_with(nginx_patches_client_ca_sha256=pins)
    assert len(problem) == 1 and problem[0].startswith("nginx_patches_client_ca_sha256: give a list of SHA-256")


def test_an_expired_pinned_ca_is_refused():
    key = pki.rsa_key()
    old = pki.issue("origin-pull (old)", key, ca=True, days=10, not_before=datetime.datetime(2019, 1, 1))
    text = pki.pem(old).decode()
    problem = errors_with(nginx_patches_client_ca=text, nginx_patches_client_ca_sha256=[_sha256(text)])
    assert len(problem) == 1 and "expired on 2019-01-11" in problem[0], problem


def test_the_pinned_default_is_cloudflares_published_fingerprint():
    """The role's default, its argument spec and the module_utils constant name the same fingerprint."""
    import yaml  # pylint: disable=import-outside-toplevel

    root = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "nginx_patches")
    with open(os.path.join(root, "defaults", "main.yml"), encoding="utf-8") as handle:
        defaults = yaml.safe_load(handle)
    with open(os.path.join(root, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        spec = yaml.safe_load(handle)["argument_specs"]["main"]["options"]
    assert defaults["nginx_patches_client_ca_sha256"] == [CLOUDFLARE_ORIGIN_PULL_CA_SHA256]
    assert spec["nginx_patches_client_ca_sha256"]["default"] == [CLOUDFLARE_ORIGIN_PULL_CA_SHA256]
    assert defaults["nginx_patches_client_ca_url"] == CLOUDFLARE_ORIGIN_PULL_CA_URL
    assert spec["nginx_patches_client_ca_url"]["default"] == CLOUDFLARE_ORIGIN_PULL_CA_URL
