"""dsm_reverse_proxy against the mock DSM: entries, access profiles, and the write order."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.nas.plugins.module_utils import dsm_validate as v
from ansible_collections.homelab.nas.plugins.module_utils.dsm_reverse_proxy import (
    DsmReverseProxy,
    comparable,
    desired_entry,
    frontend_key,
)


def rule(hostname, port, **extra):
    base = dict(
        description=None,
        frontend=dict(protocol="https", hostname=hostname, port=443),
        backend=dict(protocol="http", host="localhost", port=port),
        hsts=True,
        http2=True,
        websocket=False,
        custom_headers=[],
        timeouts=None,
        access_control_profile=None,
        state="present",
    )
    base.update(extra)
    return base


def test_entries_and_profiles_are_read(dsm_client):
    api = DsmReverseProxy(dsm_client)
    assert sorted(e["frontend"]["fqdn"] for e in api.entries()) == ["nas.example.test", "photos.example.test"]
    assert api.access_profiles() == {"LAN only": "6f1c2b8e-5d2a-4c55-9a1e-1c0ffee00001"}


def test_apply_creates_then_updates_then_deletes(dsm_client, dsm_lab, dsm_writes):
    """A failure part-way leaves a rule too many, never a declared one missing (issue 12's window)."""
    api = DsmReverseProxy(dsm_client)
    current = {e["frontend"]["fqdn"]: e for e in api.entries()}
    photos = desired_entry(0, rule("photos.example.test", 9090))
    new = desired_entry(1, rule("Music.Example.Test", 4000, websocket=True))
    dsm_lab.clear_log()
    api.apply([current["nas.example.test"]], [(current["photos.example.test"], photos)], [new])
    assert dsm_writes() == [("SYNO.Core.AppPortal.ReverseProxy", m) for m in ("create", "update", "delete")]
    after = {frontend_key(e): comparable(e) for e in api.entries()}
    assert after == {frontend_key(photos): comparable(photos), frontend_key(new): comparable(new)}
    assert {h["name"] for h in new["customize_headers"]} == {"Upgrade", "Connection"}


def test_desired_entry_names_the_field():
    with pytest.raises(v.InputError, match=r"^rules\[3\].timeouts.read: 0 is out of range"):
        desired_entry(3, rule("a.example.test", 80, timeouts=dict(connect=60, read=0, send=60)))
