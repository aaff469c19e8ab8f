"""router_port_forward end to end against the mock IGD (in-process module, real HTTP/SOAP)."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.nas.plugins.module_utils.igd_client import IgdClient
from ansible_collections.homelab.nas.plugins.module_utils.igd_description_cache import ENV_DIR
from ansible_collections.homelab.nas.plugins.modules import router_port_forward
from tests.unit.plugins.modules.runner import run_module

HTTPS = {"external_port": 443, "internal_port": 5001, "description": "nas-https"}
WRITES = ("AddPortMapping", "DeletePortMapping")


@pytest.fixture
def run(router_lab, capsys, tmp_path, monkeypatch):
    # A description cache of the test's own: what one test's router refused is not the next one's.
    monkeypatch.setenv(ENV_DIR, str(tmp_path / "router-cache"))

    def _run(check_mode=False, diff=True, **args):
        args.setdefault("igd_url", router_lab.igd_url)
        return run_module(router_port_forward, args, capsys, check_mode=check_mode, diff=diff)

    return _run


def held(router_lab):
    return {
        (m["NewProtocol"], m["NewExternalPort"]): (
            m["NewInternalClient"],
            m["NewInternalPort"],
            m["NewPortMappingDescription"],
        )
        for m in router_lab.state()["mappings"]
    }


def held_by(router_lab, port, internal_port, client, description, protocol="tcp"):
    """A permanent mapping made by another program, as the router holds it."""
    IgdClient(router_lab.igd_url).add_mapping(
        dict(
            external_port=port,
            protocol=protocol,
            internal_port=internal_port,
            internal_client=client,
            description=description,
            lease_duration=0,
        )
    )


def writes(router_lab):
    return [c for c in router_lab.calls() if c["method"] in WRITES]


def test_add_then_idempotent(run, router_lab):
    first = run(mappings=[HTTPS, {"external_port": 5001}])
    assert first["changed"] is True
    assert held(router_lab) == {
        ("TCP", 443): ("127.0.0.1", 5001, "homelab.nas: nas-https"),
        ("TCP", 5001): ("127.0.0.1", 5001, "homelab.nas: tcp 5001"),
    }
    assert first["external_address"] == "100.128.77.2" and first["behind_cgnat"] is False
    assert [m["external_port"] for m in first["mappings"]] == [443, 5001]
    router_lab.clear_log()
    second = run(mappings=[HTTPS, {"external_port": 5001}])
    assert second["changed"] is False and second["diff"]["before"] == second["diff"]["after"]
    assert writes(router_lab) == []


def test_changed_internal_port_is_updated_in_place(run, router_lab):
    run(mappings=[HTTPS])
    result = run(mappings=[dict(HTTPS, internal_port=8443)])
    assert result["changed"] is True
    assert result["diff"]["before"]["tcp/443"]["internal_port"] == 5001
    assert held(router_lab)[("TCP", 443)][1] == 8443


def test_check_mode_changes_nothing(run, router_lab):
    result = run(check_mode=True, mappings=[HTTPS])
    assert result["changed"] is True and "tcp/443" in result["diff"]["after"]
    assert held(router_lab) == {} and writes(router_lab) == []


@pytest.mark.parametrize(
    "mapping,fragment",
    [
        ({"external_port": 0}, "mappings[0].external_port: 0 is not a port"),
        ({"external_port": 70000}, "mappings[0].external_port: 70000 is not a port"),
        ({"external_port": 443, "internal_port": 65536}, "mappings[0].internal_port"),
        ({"external_port": 443, "protocol": "sctp"}, "mappings[0].protocol: 'sctp'"),
        (
            {"external_port": 443, "internal_client": "nas.local"},
            "mappings[0].internal_client: 'nas.local' is not an IPv4",
        ),
        ({"external_port": 443, "lease_duration": 700000}, "mappings[0].lease_duration"),
    ],
)
def test_bad_input_is_refused_before_the_router_is_contacted(run, router_lab, mapping, fragment):
    result = run(mappings=[mapping])
    assert result["failed"] is True and fragment in result["msg"]
    assert router_lab.calls() == [] and held(router_lab) == {}


def test_duplicate_declaration_is_refused(run, router_lab):
    result = run(mappings=[HTTPS, {"external_port": 443, "protocol": "TCP"}])
    assert result["failed"] is True and "tcp/443 is declared twice" in result["msg"]
    assert router_lab.calls() == []


def test_conflict_names_the_holder_and_writes_nothing(run, router_lab):
    held_by(router_lab, 443, 443, "192.168.1.50", "game console")
    router_lab.clear_log()
    result = run(mappings=[HTTPS, {"external_port": 5001}])
    assert result["failed"] is True
    assert "192.168.1.50" in result["msg"] and "game console" in result["msg"]
    assert writes(router_lab) == []
    assert ("TCP", 5001) not in held(router_lab)


def test_secure_mode_refusal_is_explained(run, router_lab):
    router_lab.configure(secure_mode=True)
    result = run(mappings=[dict(HTTPS, internal_client="192.168.1.10")])
    assert result["failed"] is True and result["upnp_error"] == 718 and "secure mode" in result["msg"]
    assert held(router_lab) == {}


def test_policy_refusal_606(run, router_lab):
    router_lab.configure(min_external_port=1024)
    result = run(mappings=[HTTPS])
    assert result["failed"] is True and result["upnp_error"] == 606 and "policy" in result["msg"]


def test_permanent_only_router_gets_a_permanent_lease(run, router_lab):
    router_lab.configure(permanent_only=True)
    result = run(mappings=[dict(HTTPS, lease_duration=3600)])
    assert result["changed"] is True and result["mappings"][0]["lease_duration"] == 0
    assert [c["outcome"] for c in router_lab.calls(method="AddPortMapping")] == [725, "ok"]


def test_exclusive_removes_only_our_undeclared_mappings(run, router_lab):
    held_by(router_lab, 3074, 3074, "127.0.0.1", "xbox", protocol="udp")
    run(mappings=[HTTPS, {"external_port": 80}])
    router_lab.clear_log()
    result = run(mappings=[HTTPS, {"external_port": 8443}], exclusive=True)
    assert result["changed"] is True and result["removed"] == ["tcp/80"]
    assert set(held(router_lab)) == {("TCP", 443), ("TCP", 8443), ("UDP", 3074)}
    # The declared mapping is added before the undeclared one is removed.
    assert [c["method"] for c in writes(router_lab)] == ["AddPortMapping", "DeletePortMapping"]


def test_absent_deletes_ours_and_leaves_others(run, router_lab):
    run(mappings=[HTTPS])
    held_by(router_lab, 8080, 80, "192.168.1.50", "camera")
    result = run(mappings=[HTTPS, {"external_port": 8080}], state="absent")
    assert result["changed"] is True and result["removed"] == ["tcp/443"]
    assert any("forwarded to 192.168.1.50 by someone else" in str(w) for w in result["warnings"]), result["warnings"]
    assert set(held(router_lab)) == {("TCP", 8080)}
    assert run(mappings=[HTTPS], state="absent")["changed"] is False


@pytest.mark.parametrize("wan", ["100.64.12.34", "192.168.0.2"])
def test_cgnat_or_double_nat_is_reported_even_when_adding_fails(run, router_lab, wan):
    router_lab.configure(external_ip=wan)
    probe = run(mappings=[])
    assert probe["behind_cgnat"] is True and probe["changed"] is False
    assert "carrier-grade NAT" in probe["cgnat_explanation"] and "exposure_mode: tunnel" in probe["cgnat_explanation"]
    failed = run(mappings=[HTTPS])
    assert failed["failed"] is True and failed["upnp_error"] == 501
    assert failed["behind_cgnat"] is True and "private or CGNAT" in failed["msg"]


@pytest.mark.parametrize("strict", [False, True])
def test_description_change_is_applied_on_either_router(run, router_lab, strict):
    # miniupnpd 2.3.1 keeps the old description on a re-add with the same internal port; the spec does not
    router_lab.configure(strict_spec=strict)
    run(mappings=[HTTPS])
    result = run(mappings=[dict(HTTPS, description="renamed")])
    assert result["changed"] is True and result["mappings"][0]["description"] == "homelab.nas: renamed"
    assert held(router_lab)[("TCP", 443)][2] == "homelab.nas: renamed"
    adds = [c["outcome"] for c in router_lab.calls(method="AddPortMapping")]
    assert adds == (["ok", "ok"] if strict else ["ok", "ok", "ok"]), adds  # miniupnpd: delete and add again


@pytest.mark.parametrize("strict", [False, True])
def test_absent_verifies_by_reading_back(run, router_lab, strict):
    router_lab.configure(strict_spec=strict)
    run(mappings=[HTTPS])
    router_lab.clear_log()
    result = run(mappings=[HTTPS], state="absent")
    assert result["changed"] is True and held(router_lab) == {}
    methods = [c["method"] for c in router_lab.calls()]
    assert methods[-2:] == ["DeletePortMapping", "GetSpecificPortMappingEntry"], methods


# -- leases (issue 12, item 7): a lease under half its requested length is refreshed --------------------------------
@pytest.fixture
def clock(monkeypatch):
    from tests.lab.mock_router import igd

    now = [1_800_000_000.0]
    monkeypatch.setattr(igd, "clock", lambda: now[0])
    return now


def lease_left(router_lab, port=443):
    entry = next(m for m in router_lab.state()["mappings"] if m["NewExternalPort"] == port)
    return entry["NewLeaseDuration"]


@pytest.mark.parametrize("asked,granted", [(0, 604800), (3600, 3600)])
def test_a_lease_under_half_its_length_is_refreshed_and_says_why(run, router_lab, clock, asked, granted):
    """A router that refuses permanent leases (miniupnpd: 0 becomes 604800) drops the forward when the lease
    ends: a run with less than half of it left adds it again, reports changed, and the diff says why."""
    mapping = dict(HTTPS, lease_duration=asked)
    assert run(mappings=[mapping])["changed"] is True
    clock[0] += granted // 2 - 10  # just over half left: nothing to do
    router_lab.clear_log()
    calm = run(mappings=[mapping])
    assert calm["changed"] is False and writes(router_lab) == []
    clock[0] += 20  # now under half
    left = lease_left(router_lab)
    assert left < granted / 2
    check = run(check_mode=True, mappings=[mapping])
    assert check["changed"] is True and writes(router_lab) == [] and lease_left(router_lab) == left
    refreshed = run(mappings=[mapping])
    assert refreshed["changed"] is True
    assert refreshed["diff"]["before"]["tcp/443"]["lease"] == "%d s left of %d, under half: refresh due" % (
        left,
        granted,
    )
    assert refreshed["diff"]["after"]["tcp/443"]["lease"] == "refreshed: %d s" % granted
    assert [c["method"] for c in writes(router_lab)] == ["AddPortMapping"]
    assert lease_left(router_lab) == granted and refreshed["mappings"][0]["lease_duration"] == granted
    assert run(mappings=[mapping])["changed"] is False


def test_a_permanent_mapping_is_never_refreshed(run, router_lab, clock):
    router_lab.configure(permanent_only=True)
    assert run(mappings=[HTTPS])["changed"] is True
    router_lab.clear_log()
    clock[0] += 30 * 86400
    again = run(mappings=[HTTPS])
    assert again["changed"] is False and writes(router_lab) == [] and lease_left(router_lab) == 0


def test_a_router_that_caps_leases_gets_a_refresh_every_run_and_a_warning(run, router_lab, clock):
    """A Technicolor router forced 86400 whatever was asked (miniupnp/miniupnp#398): under half of the 604800
    asked for from the start, so each run refreshes it and says how often the task must run."""
    router_lab.configure(forced_lease=86400)
    first = run(mappings=[HTTPS])
    warned = " ".join(str(w) for w in first.get("warnings", []))
    assert first["changed"] is True and "caps leases" in warned and "86400" in warned, warned
    clock[0] += 3600
    second = run(mappings=[HTTPS])
    assert second["changed"] is True and lease_left(router_lab) == 86400


# -- requests per no-op (issue 15): the description cached, the WAN address read only where asked ----------------
def requests(router_lab):
    """Every request the router saw, the description's GET included."""
    return [c["method"] for c in router_lab.calls()]


def test_a_no_op_makes_one_request_per_read_it_needs(run, router_lab):
    """What the exposure role's three router tasks cost once the description is cached: the probe (check mode)
    reads the WAN address and the declared mapping; the forward, told the address, reads the mapping; the exclusive
    removal lists the router's TCP and UDP mappings (IGD v2), which covers the declared ones."""
    assert run(mappings=[HTTPS])["changed"] is True
    router_lab.clear_log()
    probe = run(check_mode=True, mappings=[HTTPS])
    assert probe["changed"] is False and probe["external_address"] == "100.128.77.2"
    assert requests(router_lab) == ["GetExternalIPAddress", "GetSpecificPortMappingEntry"]
    router_lab.clear_log()
    forward = run(mappings=[HTTPS], read_external_address=False)
    assert forward["changed"] is False and "external_address" not in forward and "behind_cgnat" not in forward
    assert forward["mappings"][0]["internal_port"] == 5001
    assert requests(router_lab) == ["GetSpecificPortMappingEntry"]
    router_lab.clear_log()
    removal = run(mappings=[HTTPS], exclusive=True, read_external_address=False)
    assert removal["changed"] is False and removal["removed"] == []
    assert requests(router_lab) == ["GetListOfPortMappings", "GetListOfPortMappings"]


def test_without_the_description_cache_every_task_fetches_the_description(run, router_lab):
    run(mappings=[HTTPS], description_cache=False)
    router_lab.clear_log()
    assert run(mappings=[HTTPS], description_cache=False, read_external_address=False)["changed"] is False
    assert requests(router_lab) == ["GET /rootDesc.xml", "GetSpecificPortMappingEntry"]


def test_exclusive_still_finds_a_conflict_on_a_declared_port_from_the_list(run, router_lab):
    held_by(router_lab, 443, 443, "192.168.1.50", "game console")
    router_lab.clear_log()
    result = run(mappings=[HTTPS], exclusive=True)
    assert result["failed"] is True and "192.168.1.50" in result["msg"] and writes(router_lab) == []
    assert "GetSpecificPortMappingEntry" not in requests(router_lab)


def test_several_declared_ports_of_one_protocol_are_read_in_one_listing(run, router_lab):
    """IGD v2's GetListOfPortMappings over the declared ports' span answers them all, with another client's
    mapping inside the span left alone and a conflict on a declared port still found."""
    declared = [HTTPS, {"external_port": 80}, {"external_port": 8443}]
    run(mappings=declared)
    held_by(router_lab, 8080, 80, "192.168.1.50", "camera")
    router_lab.clear_log()
    again = run(mappings=declared, read_external_address=False)
    assert again["changed"] is False and [m["external_port"] for m in again["mappings"]] == [443, 80, 8443]
    assert requests(router_lab) == ["GetListOfPortMappings"]
    router_lab.clear_log()
    clash = run(mappings=declared + [{"external_port": 8080}], read_external_address=False)
    assert clash["failed"] is True and "192.168.1.50" in clash["msg"] and writes(router_lab) == []


def test_a_router_that_refuses_the_listing_is_read_port_by_port_and_not_asked_again(run, router_lab):
    declared = [HTTPS, {"external_port": 80}]
    run(mappings=declared)
    router_lab.fault(fail_next={"method": "GetListOfPortMappings", "code": 401, "count": 10})
    router_lab.clear_log()
    assert run(mappings=declared, read_external_address=False)["changed"] is False
    assert requests(router_lab) == ["GetListOfPortMappings"] + ["GetSpecificPortMappingEntry"] * 2
    router_lab.clear_log()
    removal = run(mappings=declared, exclusive=True, read_external_address=False)
    assert removal["changed"] is False
    assert requests(router_lab) == ["GetGenericPortMappingEntry"] * 3  # two entries, then the end of the list


def test_a_listing_that_is_not_xml_falls_back_to_the_generic_list(run, router_lab, monkeypatch):
    """Routers build the listing document by hand (miniupnpd's upnpsoap.c copies each description in as it
    stored it, which another client may have sent unescaped): one that is no XML is read entry by entry."""
    from ansible_collections.homelab.nas.plugins.module_utils import igd_client

    assert igd_client.parse_port_listing("<p:PortMappingList><p:PortMappingEntry><p:NewDescription>r&d") is None
    monkeypatch.setattr(igd_client, "parse_port_listing", lambda text: None)
    run(mappings=[HTTPS])
    router_lab.clear_log()
    removal = run(mappings=[HTTPS], exclusive=True, read_external_address=False)
    assert removal["changed"] is False
    assert requests(router_lab) == ["GetListOfPortMappings"] + ["GetGenericPortMappingEntry"] * 2
