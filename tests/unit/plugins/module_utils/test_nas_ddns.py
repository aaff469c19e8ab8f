"""The Cloudflare DDNS task's variables: every mistake named, the token never repeated, values re-rendered."""

from __future__ import annotations

import hashlib

import pytest

from ansible_collections.homelab.nas.plugins.module_utils import nas_ddns
from ansible_collections.homelab.nas.plugins.module_utils.dsm_validate import InputError

TOKEN = "nas-ddns-token-0123456789abcdefghijklmn"
SOUND = {
    "exposure_ddns": "cloudflare",
    "nas_zone": "example.test",
    "exposure_ddns_cloudflare_token": TOKEN,
    "exposure_ddns_hostnames": ["Photos.Example.Test.", "photos.example.test", "media.example.test"],
    "exposure_ddns_cloudflare_api_url": "https://api.cloudflare.com/client/v4/",
    "exposure_ddns_router_url": "http://192.168.1.1:5000/rootDesc.xml",
    "exposure_ddns_token_file": "/usr/syno/etc/homelab-nas/cloudflare-ddns.token",
    "exposure_ddns_log_file": "/var/log/homelab-nas-ddns.log",
    "exposure_ddns_python": "/usr/bin/python3",
    "exposure_ddns_task_name": "homelab.nas Cloudflare DDNS",
    "exposure_ddns_every_minutes": "5",
    "exposure_ddns_timeout": 10,
}


def test_sound_variables_give_the_script_values_without_the_token():
    assert nas_ddns.ddns_errors(SOUND) == []
    config = nas_ddns.ddns_config(SOUND)
    assert config["hostnames"] == ["photos.example.test", "media.example.test"]
    assert config["api_url"] == "https://api.cloudflare.com/client/v4"
    assert config["token_sha256"] == hashlib.sha256(TOKEN.encode()).hexdigest()
    assert TOKEN not in repr(config)


@pytest.mark.parametrize(
    "field, value, says",
    [
        ("exposure_ddns", "dyndns", "not one of cloudflare, synology, none"),
        ("exposure_ddns_cloudflare_token", "has space and 'quote' 0123456789", "exposure_ddns_cloudflare_token"),
        ("exposure_ddns_cloudflare_token", None, "exposure_ddns_cloudflare_token"),
        ("exposure_ddns_hostnames", ["photos.other.com"], "not in the zone example.test"),
        ("exposure_ddns_hostnames", ["x;reboot"], "exposure_ddns_hostnames[0]"),
        ("exposure_ddns_hostnames", "photos.example.test", "give a list"),
        ("exposure_ddns_cloudflare_api_url", "http://api.cloudflare.com/client/v4", "https"),
        ("exposure_ddns_router_url", "http://192.168.1.1/'$(reboot)'", "exposure_ddns_router_url"),
        ("exposure_ddns_token_file", "relative/token", "absolute path"),
        ("exposure_ddns_log_file", "/var/log/$(id).log", "exposure_ddns_log_file"),
        ("exposure_ddns_zone_id", "not-an-id", "32 hex digits"),
        ("exposure_ddns_every_minutes", 7, "Task Scheduler offers"),
        ("exposure_ddns_timeout", 0, "1-120"),
        ("exposure_ddns_task_name", "two\nlines", "one non-empty line"),
        ("exposure_ddns_ipv6", "yes", "true or false"),
        ("exposure_public_address", "100.128.77.2", "each DDNS run would undo"),
    ],
)
def test_each_mistake_named_before_any_write(field, value, says):
    errors = nas_ddns.ddns_errors(dict(SOUND, **{field: value}))
    assert len(errors) == 1 and says in errors[0], errors
    if field == "exposure_ddns_cloudflare_token" and value:
        assert value not in errors[0]
    if field != "exposure_ddns":
        with pytest.raises(InputError):
            nas_ddns.ddns_config(dict(SOUND, **{field: value}))


def test_a_fixed_public_address_goes_with_synology_ddns_or_none():
    fixed = {"exposure_public_address": "100.128.77.2", "exposure_ddns_synology_hostname": "nas.synology.me"}
    for mode in ("synology", "none"):
        assert nas_ddns.ddns_errors(dict(fixed, exposure_ddns=mode)) == []


def test_synology_needs_a_hostname_and_none_checks_nothing_else():
    assert nas_ddns.ddns_errors({"exposure_ddns": "none", "exposure_ddns_cloudflare_token": "x"}) == []
    (error,) = nas_ddns.ddns_errors({"exposure_ddns": "synology"})
    assert "exposure_ddns_synology_hostname" in error
    synology = {"exposure_ddns": "synology", "exposure_ddns_synology_hostname": "nas.synology.me"}
    assert nas_ddns.ddns_errors(synology) == []


def test_the_other_modes_check_what_the_clean_up_script_is_given():
    # none and synology take an earlier cloudflare run's task and token file down: those names reach its script.
    for mode in ("none", "synology"):
        declared = {
            "exposure_ddns": mode,
            "exposure_ddns_synology_hostname": "nas.synology.me",
            "exposure_ddns_token_file": "/etc/x/$(reboot)",
            "exposure_ddns_log_file": "var/log/ddns.log",
            "exposure_ddns_task_name": "",
        }
        errors = nas_ddns.ddns_errors(declared)
        assert [e.split(":", 1)[0] for e in errors] == [
            "exposure_ddns_token_file",
            "exposure_ddns_log_file",
            "exposure_ddns_task_name",
        ], errors


def test_disabling_the_synology_record_needs_its_hostname():
    (error,) = nas_ddns.ddns_errors({"exposure_ddns": "none", "exposure_ddns_synology_disable": True})
    assert error.startswith("exposure_ddns_synology_hostname") and "exposure_ddns_synology_disable" in error
    (error,) = nas_ddns.ddns_errors({"exposure_ddns": "none", "exposure_ddns_synology_disable": "yes"})
    assert error == "exposure_ddns_synology_disable: give true or false"
    asked = {"exposure_ddns_synology_disable": True, "exposure_ddns_synology_hostname": "nas.synology.me"}
    assert nas_ddns.ddns_errors(dict(SOUND, **asked)) == []
