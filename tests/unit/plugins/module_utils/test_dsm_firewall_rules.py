"""Firewall rule normalisation and first-match evaluation (lockout protection)."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, strategies as st

from ansible_collections.homelab.nas.plugins.module_utils import dsm_firewall_rules as fw, dsm_validate as v
from ansible_collections.homelab.nas.plugins.module_utils.dsm_errors import DsmError


def test_ports_are_canonical_and_services_expand():
    rule = fw.normalise_rule(0, {"ports": ["https", "5001", "dsm", "5000-5001", 80]})
    assert rule["ports"] == "80,443,5000,5000-5001,5001" and rule["port_group"] == "custom"
    assert fw.normalise_rule(0, {"ports": ["all"]})["port_group"] == "all"


@pytest.mark.parametrize(
    "rule,fragment",
    [
        ({"ports": ["0"]}, "rules[0].ports: 0 is not a port"),
        ({"ports": ["6000-5000"]}, "runs backwards"),
        ({"ports": ["smtp"]}, "rules[0].ports: smtp is not a port"),
        ({"action": "drop"}, "rules[0].action"),
        ({"protocol": "sctp"}, "rules[0].protocol"),
        ({"source": "192.168.1.7/24"}, "did you mean 192.168.1.0/24"),
        ({"source": "192.168.1.300"}, "rules[0].source: '192.168.1.300' is not an address"),
    ],
)
def test_bad_rules_name_the_field(rule, fragment):
    with pytest.raises(v.InputError) as err:
        fw.normalise_rule(0, rule)
    assert fragment in str(err.value)


@pytest.mark.parametrize(
    "source,group,text",
    [
        ("all", "all", ""),
        ("192.168.1.5", "ip", "192.168.1.5"),
        ("192.168.1.5/32", "ip", "192.168.1.5"),
        ("10.0.0.0/8", "subnet", "10.0.0.0/8"),
        ("192.168.1.20 - 192.168.1.10", None, None),
        ("192.168.1.10-192.168.1.20", "range", "192.168.1.10-192.168.1.20"),
        ("2400:cb00::/32", "subnet", "2400:cb00::/32"),
    ],
)
def test_sources(source, group, text):
    if group is None:
        with pytest.raises(v.InputError):
            v.source("source", source)
    else:
        assert v.source("source", source) == (group, text)


RULES = [
    fw.normalise_rule(0, {"name": "lan", "ports": ["dsm"], "source": "192.168.1.0/24"}),
    fw.normalise_rule(1, {"name": "block-guest", "action": "deny", "source": "192.168.1.128-192.168.1.255"}),
    fw.normalise_rule(2, {"name": "cloudflare", "ports": ["https"], "source": "173.245.48.0/20"}),
]


@pytest.mark.parametrize(
    "address,port,expected",
    [
        ("192.168.1.10", 5001, ("allow", "lan")),
        ("192.168.1.10", 22, ("deny", None)),
        ("192.168.1.200", 5001, ("allow", "lan")),  # first match wins: lan before block-guest
        ("173.245.50.1", 443, ("allow", "cloudflare")),
        ("173.245.50.1", 5001, ("deny", None)),
        ("8.8.8.8", 443, ("deny", None)),
    ],
)
def test_first_match(address, port, expected):
    assert fw.first_match(RULES, "deny", address, port) == expected


def test_disabled_and_udp_rules_do_not_match_tcp():
    rules = [
        fw.normalise_rule(0, {"ports": ["5001"], "enabled": False}),
        fw.normalise_rule(1, {"ports": ["5001"], "protocol": "udp"}),
    ]
    assert fw.first_match(rules, "deny", "10.0.0.1", 5001) == ("deny", None)


addresses = st.ip_addresses(v=4).map(str)
networks = st.builds(
    lambda ip, bits: str(ipaddress.ip_network("%s/%d" % (ip, bits), strict=False)),
    addresses,
    st.integers(min_value=8, max_value=32),
)
sources = st.one_of(
    st.just("all"),
    addresses,
    networks,
    # A range of at most a /8's size (dsm_validate.WIDEST_PREFIX: wider ones are refused).
    st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**24 - 1)).map(
        lambda t: "%s-%s" % (ipaddress.ip_address(t[0]), ipaddress.ip_address(min(t[0] + t[1], 2**32 - 1)))
    ),
)
port_specs = st.lists(
    st.one_of(
        st.integers(1, 65535).map(str),
        st.sampled_from(sorted(fw.SERVICES)),
        st.tuples(st.integers(1, 65535), st.integers(1, 65535)).map(lambda t: "%d-%d" % (min(t), max(t))),
    ),
    min_size=1,
    max_size=5,
)
user_rules = st.fixed_dictionaries(
    {
        "name": st.text(min_size=1, max_size=10),
        "action": st.sampled_from(fw.ACTIONS),
        "protocol": st.sampled_from(fw.PROTOCOLS),
        "ports": port_specs,
        "source": sources,
        "enabled": st.booleans(),
    }
)


@given(sources)
def test_normalising_a_source_twice_equals_once(source):
    group, text = v.source("source", source)
    assert v.source("source", text or "all") == (group, text)


@given(st.lists(user_rules, max_size=6))
def test_a_rule_list_and_its_normalised_form_compare_equal(rules):
    once = [fw.normalise_rule(i, r) for i, r in enumerate(rules)]
    twice = [fw.normalise_rule(i, fw.rule_from_dsm(r)) for i, r in enumerate(once)]
    assert once == twice


# -- the firewall API against the mock DSM --------------------------------------------------------


def test_firewall_read_save_apply_disable(dsm_lab, dsm_client):
    api = fw.DsmFirewall(dsm_client)
    enabled, active, profile = api.read("default")
    assert (enabled, active) == (False, "default") and profile["global"] == {"policy": "allow", "rules": []}
    # The lab enforces what it applies: the rule must admit the port this controller reaches DSM on.
    lan = {"name": "lan", "ports": ["dsm", str(dsm_lab.https_port)], "source": "127.0.0.0/8"}
    rules = [fw.normalise_rule(0, lan)]
    api.save(dict(profile, name="default", **{"global": {"policy": "deny", "rules": rules}}))
    assert dsm_lab.state()["firewall"]["enable_firewall"] is False, "saving a profile does not apply it"
    api.apply("default")
    enabled, active, profile = api.read("default")
    assert enabled is True and [fw.rule_from_dsm(r)["name"] for r in profile["global"]["rules"]] == ["lan"]
    api.disable()
    assert api.read("default")[0] is False


def test_save_and_apply_records_then_saves_then_applies(dsm_lab, dsm_client, dsm_writes, tmp_path):
    api = fw.DsmFirewall(dsm_client)
    record = fw.AppliedRecord(str(tmp_path), dsm_client.base_url, "default", "global")
    _enabled, _active, profile = api.read("default")
    lan = [fw.normalise_rule(0, {"name": "lan", "ports": ["dsm", str(dsm_lab.https_port)], "source": "127.0.0.0/8"})]

    # Not live: the table is saved, nothing applied, nothing recorded.
    assert api.save_and_apply("default", "deny", lan, profile, record=record, live=False) is None
    saved = dsm_lab.state()["firewall"]["profiles"]["default"]
    assert saved == {"name": "default", "global": {"policy": "deny", "rules": lan}}
    assert dsm_lab.state()["firewall"]["enable_firewall"] is False and record.load() is None
    assert dsm_writes() == [(fw.PROFILE_API, "set")]

    # The apply fails: what was in force stays recorded, so a rerun knows the saved table is not live.
    profile = api.read("default")[2]
    more = lan + [fw.normalise_rule(1, {"name": "web", "ports": ["https"]})]
    dsm_lab.fault(fail_next={"api": fw.APPLY_API, "method": "start", "code": 100, "count": 1})
    with pytest.raises(DsmError) as err:
        api.save_and_apply("default", "deny", more, profile, record=record, in_force=fw.OFF)
    assert err.value.api == fw.APPLY_API and err.value.code == 100
    assert record.load() == fw.OFF
    state = dsm_lab.state()["firewall"]
    assert [r["name"] for r in state["profiles"]["default"]["global"]["rules"]] == ["lan", "web"]
    assert state["enable_firewall"] is False and "applied" not in state

    # The same table again: no save; applied because asked to (reapply), then recorded as in force.
    profile = api.read("default")[2]
    assert api.save_and_apply("default", "deny", more, profile, record=record, reapply=True) is True
    state = dsm_lab.state()["firewall"]
    assert state["enable_firewall"] is True and state["applied"]["global"] == fw.table("deny", more)
    assert record.load() == fw.table_digest(fw.table("deny", more))
    assert dsm_writes()[-3:] == [(fw.APPLY_API, "start"), (fw.APPLY_API, "start"), (fw.APPLY_API, "stop")]
    assert dsm_writes().count((fw.PROFILE_API, "set")) == 2

    # Nothing differs and nothing asks for an apply: no request at all.
    calls = len(dsm_lab.calls())
    assert api.save_and_apply("default", "deny", more, api.read("default")[2], record=record) is None
    assert len(dsm_lab.calls()) == calls + 1, "only the read"


def test_the_profile_shape_keeps_the_other_interfaces():
    profile = {"name": "p", "global": fw.table("allow", []), "eth0": fw.table("deny", [])}
    whole = fw.with_table(profile, "p", "eth1", fw.table("deny", RULES))
    assert whole == dict(profile, eth1={"policy": "deny", "rules": RULES}) and profile.get("eth1") is None
    assert fw.table_of({"name": "p"}, "eth1") == {"policy": "allow", "rules": []}
    assert fw.table_view(fw.table("deny", RULES[:1]))["rules"][0]["name"] == "lan"
