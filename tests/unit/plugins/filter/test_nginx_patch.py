"""The nginx_patches role's variable check (module_utils/nginx_patch.py, the nginx_patch_errors filter)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.nas.plugins.filter import nginx_patch_errors as nginx_filter
from ansible_collections.homelab.nas.plugins.module_utils.nas_validate import plan_errors
from ansible_collections.homelab.nas.plugins.module_utils.nginx_patch import ca_text, nginx_patch_errors
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
