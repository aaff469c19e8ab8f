"""Debian's upnpc against the mock router: the same conversation, and the same answers, as against the
real miniupnpd (test_router_miniupnpd.py::test_upnpc_conversation)."""

from __future__ import annotations

import shutil

import pytest

from tests.utils.upnpc import Upnpc, cgnat_conversation, conversation


@pytest.fixture
def upnpc(router_lab):
    if shutil.which("upnpc") is None:
        pytest.fail("upnpc is missing: tests/system-deps.sh installs Debian's miniupnpc")
    return Upnpc(router_lab.igd_url)


def test_upnpc_conversation(upnpc, router_lab):
    assert conversation(upnpc, "100.128.77.2", "http://127.0.0.1/") == "127.0.0.1"
    actions = {c["method"] for c in router_lab.calls()}
    # upnpc -L and -n and -N reached the IGD:2 actions; -s the WANCommonInterfaceConfig ones
    assert {
        "GetListOfPortMappings",
        "AddAnyPortMapping",
        "DeletePortMappingRange",
        "GetCommonLinkProperties",
        "GetTotalBytesSent",
    } <= actions


def test_upnpc_against_a_cgnat_router(upnpc, router_lab):
    router_lab.configure(external_ip="100.64.77.2")
    cgnat_conversation(upnpc, "127.0.0.1")
