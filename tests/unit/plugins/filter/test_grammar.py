"""Issue 12 items 2, 3, 5: the grammar of every value that reaches a shell script, DSM's nginx or Cloudflare
(module_utils/dsm_validate.py), names compared as DNS compares them, and networks that would widen trust.
Table-driven: each bad value is refused naming its field; each good one comes back normalised."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.homelab.nas.plugins.filter import nginx_patch_values as values_filter
from ansible_collections.homelab.nas.plugins.module_utils import dsm_validate as v, nas_plan
from ansible_collections.homelab.nas.plugins.module_utils.errors import HomelabInputError
from ansible_collections.homelab.nas.plugins.module_utils.nas_validate import plan_errors
from ansible_collections.homelab.nas.plugins.module_utils.nginx_patch import nginx_patch_errors, script_values

# What an attacker (or a typo) puts where a hostname belongs.
BAD_HOSTNAMES = [
    "$(touch /tmp/pwned).example.test",
    "`id`.example.test",
    "photos.example.test; reboot",
    "photos.example.test\nssl_verify_client off",
    "photos.example.test\n",
    "\nphotos.example.test",
    "photos.example.test\r",
    "photos\x00.example.test",
    "'photos.example.test'",
    '"photos.example.test"',
    "photos.example.test#",
    "photos example.test",
    "photos.example.test\t",
    "phötos.example.test",
    "photos.exam\u212aple.test",  # KELVIN SIGN: lower() would turn it into an ASCII k
    "a" * 64 + ".example.test",
    ".".join(["a" * 63] * 4) + ".test",
    "-photos.example.test",
    "photos-.example.test",
    "photos..example.test",
    "*",
    "*.test",
    "a.*.example.test",
    "",
    "photos.example.test/../x",
    "${IFS}.example.test",
    "{a,b}.example.test",
]


@pytest.mark.parametrize("value", BAD_HOSTNAMES)
def test_a_hostname_outside_rfc_1123_is_refused_naming_the_field(value):
    with pytest.raises(v.InputError) as err:
        v.hostname("rules[0].frontend.hostname", value, wildcard=True)
    assert str(err.value).startswith("rules[0].frontend.hostname: ")


@pytest.mark.parametrize(
    "value, wanted",
    [
        ("photos.example.test", "photos.example.test"),
        ("Photos.Example.Test.", "photos.example.test"),
        ("*.apps.example.test", "*.apps.example.test"),
        ("xn--phtos-kua.example.test", "xn--phtos-kua.example.test"),
        ("a" * 63 + ".example.test", "a" * 63 + ".example.test"),
    ],
)
def test_a_hostname_comes_back_as_names_are_compared(value, wanted):
    assert v.hostname("f", value, wildcard=True) == wanted
    assert v.name_key(value) == wanted


def test_a_non_ascii_name_is_told_its_punycode():
    with pytest.raises(v.InputError) as err:
        v.hostname("f", "phötos.example.test")
    assert "punycode" in str(err.value) and "xn--" in str(err.value)


@pytest.mark.parametrize(
    "name, wanted",
    [
        ("@", "example.test"),
        ("example.test", "example.test"),
        ("Example.Test.", "example.test"),
        ("nas", "nas.example.test"),
        ("NAS.", "nas.example.test"),
        ("photos.example.test", "photos.example.test"),
        ("Photos.Example.Test.", "photos.example.test"),
        ("_acme-challenge.example.test", "_acme-challenge.example.test"),
        ("*.example.test", "*.example.test"),
        ("xn--phtos-kua", "xn--phtos-kua.example.test"),
    ],
)
def test_a_record_name_is_made_absolute_in_the_zone(name, wanted):
    assert v.record_name("records[0].name", name, "example.test") == wanted


@pytest.mark.parametrize(
    "name, fragment",
    [
        ("x.other.test", "is not in zone example.test"),
        ("x.other.test.", "is not in zone example.test"),
        ("photos.example.test.evil", "is not in zone example.test"),
        ("notexample.test", "is not in zone example.test"),
        ("a b", "not a valid DNS record name"),
        ("phötos", "punycode (in punycode: xn--"),
        ("photos\n", "not a valid DNS record name"),
        ("$(id)", "not a valid DNS record name"),
        ("a" * 64, "not a valid DNS name"),
        ("a.*.example.test", "not a valid DNS name"),
        ("", "not a valid DNS record name"),
    ],
)
def test_a_bad_record_name_is_refused(name, fragment):
    with pytest.raises(v.InputError) as err:
        v.record_name("records[0].name", name, "example.test")
    assert str(err.value).startswith("records[0].name: ") and fragment in str(err.value)


@pytest.mark.parametrize("name", ["X-Forwarded-Host", "x-real-ip", "X_Custom", "Accept", "!#$%&'*+-.^_`|~"])
def test_a_header_name_is_an_rfc_9110_token(name):
    assert v.header_name("f", name) == name


@pytest.mark.parametrize(
    "name",
    ["X: a;\n proxy_pass http://evil", "X-A:", "X A", "X-A\n", "", "X-Ä", "X{", "X;", 'X"', "X\x00", "(X)"],
)
def test_a_header_name_outside_the_token_grammar_is_refused(name):
    with pytest.raises(v.InputError) as err:
        v.header_name("rules[0].custom_headers[0].name", name)
    assert str(err.value).startswith("rules[0].custom_headers[0].name: ")


@pytest.mark.parametrize("value", ["$http_upgrade", "$remote_addr", "1", "https", "max-age=60", "a,b=c/d:e"])
def test_a_plain_header_value_is_accepted(value):
    assert v.header_value("f", value) == value


@pytest.mark.parametrize(
    "value",
    [
        "a;\n proxy_pass http://evil",
        "a; proxy_pass http://evil",
        "a}",
        "{",
        "a\nb",
        "a\rb",
        "a\x00",
        "a\x7f",
        "a b",
        "#x",
        "a\\",
        "'a",
        '"a',
        "é",
        "",
    ],
)
def test_a_header_value_that_nginx_would_read_as_syntax_is_refused(value):
    with pytest.raises(v.InputError) as err:
        v.header_value("rules[0].custom_headers[0].value", value)
    assert str(err.value).startswith("rules[0].custom_headers[0].value: ")


@pytest.mark.parametrize(
    "value, wanted",
    [
        ("173.245.48.0/20", "173.245.48.0/20"),
        (" 2400:cb00::/32 ", "2400:cb00::/32"),
        ("2400:CB00:0:0::/32", "2400:cb00::/32"),
        ("198.51.100.7", "198.51.100.7/32"),
        ("10.0.0.0/8", "10.0.0.0/8"),
        ("fc00::/7", "fc00::/7"),  # private address space may be wide
        ("2001::/16", "2001::/16"),  # as wide as a public network may be
    ],
)
def test_a_trusted_network_is_parsed_and_re_rendered(value, wanted):
    assert v.trusted_network("f", value) == wanted


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("0.0.0.0/0", "wider than /8"),
        ("::/0", "wider than /16"),
        ("0.0.0.0/1", "wider than /8"),
        ("128.0.0.0/1", "wider than /8"),
        ("2000::/3", "wider than /16"),
        ("1.0.0.0/7", "host bits"),
        ("10.0.0.1/8", "host bits"),
        ("173.245.48.0/20;\nreturn 200", "is not an IP network"),
        ("173.245.48.0/20 ; add_header X 1", "is not an IP network"),
        ("cloudflare", "is not an IP network"),
        ("", "is not an IP network"),
    ],
)
def test_a_network_that_would_widen_trust_or_is_not_one_is_refused(value, fragment):
    with pytest.raises(v.InputError) as err:
        v.trusted_network("trusted_proxies[0]", value)
    assert str(err.value).startswith("trusted_proxies[0]: ") and fragment in str(err.value)


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("0.0.0.0/1", "wider than /8"),
        ("::/1", "wider than /16"),
        ("0.0.0.0-255.255.255.255", "spans more addresses than a /8"),
        ("1.0.0.0-2.0.0.0", "spans more addresses than a /8"),
    ],
)
def test_a_firewall_source_that_wide_must_be_written_all(value, fragment):
    with pytest.raises(v.InputError) as err:
        v.source("rules[0].source", value)
    assert fragment in str(err.value) and "write 'all'" in str(err.value)
    assert v.source("rules[0].source", "all") == ("all", "")
    assert v.source("rules[0].source", "10.0.0.0-10.255.255.255") == ("range", "10.0.0.0-10.255.255.255")


@pytest.mark.parametrize("value", ["192.168.1.10", "10.9.9.9", "172.16.0.5", "127.0.0.1"])
def test_a_lan_address_is_accepted(value):
    assert v.lan_address("f", value) == value


@pytest.mark.parametrize(
    "value, fragment",
    [
        ("8.8.8.8", "is not a LAN address"),
        ("100.64.0.1", "is not a LAN address"),  # carrier-grade NAT: the provider's network, not the LAN
        ("0.0.0.0", "is not a LAN address"),
        ("224.0.0.1", "is not a LAN address"),
        ("fd00::5", "is not an IPv4 address"),
        ("nas.local", "is not an IPv4 address"),
    ],
)
def test_a_forward_to_anything_but_the_lan_is_refused(value, fragment):
    with pytest.raises(v.InputError) as err:
        v.lan_address("mappings[0].internal_client", value)
    assert str(err.value).startswith("mappings[0].internal_client: ") and fragment in str(err.value)


@pytest.mark.parametrize("value", ["eth0", "eth1", "bond0", "ovs_eth0", "ovs_bond1", "pppoe", "pppoe0"])
def test_an_interface_dsm_uses_is_accepted(value):
    assert v.interface("f", value) == value


@pytest.mark.parametrize("value", ["eth", "wlan0", "lo", "eth0; reboot", "all", "", "global"])
def test_an_unknown_interface_is_refused(value):
    with pytest.raises(v.InputError) as err:
        v.interface("interface", value)
    assert str(err.value).startswith("interface: ")
    assert v.interface("interface", "global", allow_global=True) == "global"


# -- the nginx patch: its variables and what the script carries ---------------------


def test_the_issues_injections_in_the_role_variables_are_each_named():
    errors = nginx_patch_errors(
        {
            "nginx_patches_hostnames": ["photos.example.test", "$(touch /tmp/pwned).example.test", "`id`.x.test"],
            "nginx_patches_real_ip_from": ["173.245.48.0/20;\n}\nserver { listen 80; return 200; }", "0.0.0.0/0"],
        }
    )
    assert [e.split(":", maxsplit=1)[0] for e in errors] == [
        "nginx_patches_hostnames[1]",
        "nginx_patches_hostnames[2]",
        "nginx_patches_real_ip_from[0]",
        "nginx_patches_real_ip_from[1]",
    ]
    assert nginx_patch_errors({"nginx_patches_real_ip_from": "0.0.0.0/0"}) == [
        "nginx_patches_real_ip_from: give a list of networks, for example [173.245.48.0/20]"
    ]


@pytest.mark.parametrize(
    "field, value",
    [
        ("nginx_patches_conf_dir", "/etc/nginx\n"),  # `$` alone would let a final newline through
        ("nginx_patches_server_files", ["/etc/nginx/sites-enabled/server.ReverseProxy.conf\n"]),
        ("nginx_patches_root", "/\n"),
    ],
)
def test_a_path_with_a_trailing_newline_is_refused(field, value):
    (error,) = nginx_patch_errors({field: value})
    assert error.startswith(field)


def test_the_script_carries_the_values_re_rendered():
    assert script_values(
        ["Photos.Example.Test.", "photos.example.test", "*.Apps.Example.Test"], ["2400:CB00:0::/32", "198.51.100.7"]
    ) == {
        "hostnames": ["photos.example.test", "*.apps.example.test"],
        "real_ip_from": ["2400:cb00::/32", "198.51.100.7/32"],
    }


@pytest.mark.parametrize(
    "hostnames, networks, fragment",
    [
        (["$(id).example.test"], [], "nginx_patches_hostnames[0]"),
        (["ok.example.test", "a\nb.example.test"], [], "nginx_patches_hostnames[1]"),
        ([], ["::/0"], "nginx_patches_real_ip_from[0]"),
        ([], ["10.0.0.0/8", "1.2.3.4/32; include /etc/passwd"], "nginx_patches_real_ip_from[1]"),
    ],
)
def test_the_template_cannot_be_rendered_with_a_refused_value(hostnames, networks, fragment):
    """The filter the template renders from fails by itself, even where the role's check was bypassed."""
    values = values_filter.FilterModule().filters()["nginx_patch_values"]
    with pytest.raises(AnsibleFilterError) as err:
        values(hostnames, real_ip_from=networks)
    assert str(err.value).startswith(fragment)


# -- the plan and the role filters -----------------------------------------------------


def test_the_plan_refuses_a_public_lan_address_and_a_too_wide_lan():
    errors = plan_errors(
        {"nas_zone": "example.test", "nas_lan_address": "8.8.8.8", "hardening_lan_networks": ["0.0.0.0/1"]}
    )
    assert any(e.startswith("nas_lan_address: 8.8.8.8 is not a LAN address") for e in errors), errors
    assert any(e.startswith("hardening_lan_networks[0]: 0.0.0.0/1 is that wide") for e in errors), errors


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"controller_address": "all"}, "hardening_controller_address: 'all' is not one address"),
        ({"controller_address": "192.168.1.0/24"}, "hardening_controller_address: '192.168.1.0/24' is not one"),
        ({"controller_address": "nas.local"}, "hardening_controller_address: 'nas.local' is not an address"),
        ({"cloudflare_ranges": ["0.0.0.0/0"]}, "cloudflare_ranges[0]: 0.0.0.0/0 is wider than /8"),
        ({"cloudflare_ranges": ["173.245.48.0/20", "::/0"]}, "cloudflare_ranges[1]: ::/0 is wider than /16"),
    ],
)
def test_the_firewall_rules_filter_refuses_early_naming_the_variable(kwargs, fragment):
    services = [{"name": "photos", "hostname": "photos.example.test", "backend_port": 8080}]
    with pytest.raises(HomelabInputError) as err:
        nas_plan.firewall_rules(["192.168.1.0/24"], services=services, **kwargs)
    assert str(err.value).startswith(fragment)
