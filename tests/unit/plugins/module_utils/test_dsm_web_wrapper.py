"""dsm_web (DsmWeb, firewall_verdict) against the mock DSM: the v1/v2 merge read, the whole v1 write, the External
hostname and TLS profile, DSM's refusals, and the enforced firewall's verdict on a port."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.nas.plugins.module_utils import dsm_firewall_rules as fw, dsm_web as w
from ansible_collections.homelab.nas.plugins.module_utils.dsm_errors import DsmError


def test_the_read_merges_both_versions_with_the_hostname_and_the_tls_level(dsm_lab, dsm_client):
    merged, hostname, level = w.DsmWeb(dsm_client).read()
    assert merged["https_port"] == dsm_lab.https_port and merged["http_port"] == dsm_lab.http_port
    assert merged["enable_hsts"] is False, "v1 alone answers HSTS (DSM 7.3)"
    assert merged["enable_avahi"] is True, "v2 alone answers avahi"
    assert (hostname, level, w.level_name(level)) == ("", 1, "intermediate")


def test_writes_reach_dsm_and_read_back(dsm_lab, dsm_client, dsm_writes):
    web = w.DsmWeb(dsm_client)
    merged, _hostname, _level = web.read()
    merged.update(enable_hsts=True, enable_https_redirect=True, enable_spdy=True, enable_avahi=False)
    web.write(merged)
    web.set_external_hostname("nas.example.test")
    web.set_tls_level(w.TLS_LEVELS["modern"])
    state = dsm_lab.state()
    assert state["web"]["enable_hsts"] is True and state["web"]["enable_https_redirect"] is True
    assert state["web"]["enable_spdy"] is True and state["web"]["https_port"] == dsm_lab.https_port
    assert state["web"]["enable_avahi"] is True, "a v2 field is not part of the v1 write"
    assert web.confirm()["enable_hsts"] is True
    assert web.read()[1:] == ("nas.example.test", 0)
    assert dsm_writes() == [(w.WEB_API, "set"), (w.EXTERNAL_API, "set"), (w.TLS_API, "set")]


def test_dsm_refuses_one_port_for_both_and_an_unknown_tls_level(dsm_lab, dsm_client):
    web = w.DsmWeb(dsm_client)
    merged = web.read()[0]
    before = dsm_lab.state()["web"]
    with pytest.raises(DsmError) as err:
        web.write(dict(merged, http_port=merged["https_port"]))
    assert err.value.api == w.WEB_API and err.value.code == 120 and "https_port" in str(err.value)
    with pytest.raises(DsmError) as err:
        web.set_tls_level(7)
    assert err.value.api == w.TLS_API and "default-level" in str(err.value)
    assert dsm_lab.state()["web"] == before and dsm_lab.state()["tls_profile"]["default-level"] == 1


def test_the_firewall_verdict_is_the_enforced_profiles(dsm_lab, dsm_client):
    assert w.firewall_verdict(dsm_client, "127.0.0.1", 8443) == (True, "the firewall is off")
    api = fw.DsmFirewall(dsm_client)
    profile = api.read("default")[2]
    lan = {"name": "lan", "ports": ["dsm", str(dsm_lab.https_port)], "source": "127.0.0.0/8"}
    api.save_and_apply("default", "deny", [fw.normalise_rule(0, lan)], profile)
    assert w.firewall_verdict(dsm_client, "127.0.0.1", dsm_lab.https_port) == (
        True,
        "rule 'lan' of profile 'default' says allow",
    )
    assert w.firewall_verdict(dsm_client, "127.0.0.1", 8443) == (
        False,
        "the default action of profile 'default' says deny",
    )
