"""Zone setting names, values and HSTS rules, before anything is sent."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from ansible_collections.homelab.nas.plugins.module_utils import cloudflare_settings as cfs


@pytest.mark.parametrize("name,sid", [
    ("ssl_mode", "ssl"), ("SSL", "ssl"), ("minimum_tls_version", "min_tls_version"), ("tls_1_3", "tls_1_3"),
    ("authenticated_origin_pulls", "tls_client_auth"), ("Always-Use-HTTPS", "always_use_https"), ("hsts", "security_header"),
])
def test_friendly_names_map_to_cloudflare_ids(name, sid):
    assert cfs.setting_id(name) == sid


@pytest.mark.parametrize("sid,value,expected", [
    ("ssl", "Full (strict)", "strict"), ("ssl", "full_strict", "strict"), ("ssl", "FULL", "full"),
    ("min_tls_version", 1.2, "1.2"), ("min_tls_version", "1.3", "1.3"), ("always_use_https", True, "on"),
    ("tls_1_3", "ZRT", "zrt"), ("opportunistic_encryption", False, "off"), ("brotli", "on", "on"),
    ("some_future_setting", {"x": 1}, {"x": 1}),
    # origin_pull is the fifth mode in Cloudflare's SSL setting enum (cloudflare-python types/zones/ssl.py).
    ("ssl", "origin_pull", "origin_pull"), ("ssl", "Strict (SSL-Only Origin Pull)", "origin_pull"),
])
def test_values_are_normalised(sid, value, expected):
    assert cfs.normalise_value(sid, value) == expected


@pytest.mark.parametrize("sid,value,fragment", [
    ("ssl", "fullstrict", "ssl: 'fullstrict' is not an SSL/TLS encryption mode"),
    ("min_tls_version", "1.4", "min_tls_version: '1.4' is not a valid value"),
    ("always_use_https", "maybe", "always_use_https: 'maybe'"),
])
def test_invalid_values_name_the_setting_and_the_choices(sid, value, fragment):
    with pytest.raises(cfs.SettingError, match=fragment.replace("(", r"\(")):
        cfs.normalise_value(sid, value)


def test_seed_hsts_is_accepted():
    assert cfs.normalise_hsts({"max_age": 15552000, "include_subdomains": True, "nosniff": True}) == {
        "enabled": True, "max_age": 15552000, "include_subdomains": True, "preload": False, "nosniff": True}


@pytest.mark.parametrize("hsts,fragment", [
    ({"max_age": 15552000, "include_subdomains": True, "preload": True}, "preload needs max_age of at least 31536000"),
    ({"max_age": 31536000, "preload": True}, "preload needs include_subdomains"),
    ({"max_age": 0}, "max_age: 0 turns HSTS off"),
    ({"max_age": -5}, "out of range"),
    ({"max_age": 31536000, "color": "blue"}, "unknown field"),
    ("yes", "give a mapping"),
])
def test_hsts_rules(hsts, fragment):
    with pytest.raises(cfs.SettingError, match=fragment):
        cfs.normalise_hsts(hsts)


def test_same_setting_twice_is_refused():
    with pytest.raises(cfs.SettingError, match="both mean 'ssl'"):
        cfs.desired_settings({"ssl": "strict", "ssl_mode": "full"})
    with pytest.raises(cfs.SettingError, match="use the hsts option"):
        cfs.desired_settings({"hsts": {"max_age": 31536000}}, {"max_age": 31536000})


@given(st.sampled_from(sorted(cfs.ENUMS)), st.data())
def test_normalising_twice_equals_once(sid, data):
    value = data.draw(st.sampled_from(cfs.ENUMS[sid]))
    once = cfs.normalise_value(sid, value)
    assert cfs.normalise_value(sid, once) == once


@given(st.integers(min_value=1, max_value=cfs.MAX_HSTS_MAX_AGE), st.booleans(), st.booleans(), st.booleans())
def test_preload_is_accepted_exactly_when_the_list_would_accept_it(max_age, include_subdomains, preload, nosniff):
    hsts = dict(max_age=max_age, include_subdomains=include_subdomains, preload=preload, nosniff=nosniff)
    ok = not preload or (max_age >= cfs.PRELOAD_MIN_MAX_AGE and include_subdomains)
    if ok:
        assert cfs.normalise_hsts(cfs.normalise_hsts(hsts)) == cfs.normalise_hsts(hsts)
    else:
        with pytest.raises(cfs.SettingError):
            cfs.normalise_hsts(hsts)
