"""dsm_firewall against the mock DSM: rules, enabling, lockout protection, one-request no-op."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.nas.plugins.modules import dsm_firewall
from tests.unit.plugins.modules.runner import run_module

CLOUDFLARE = {"name": "cloudflare", "ports": ["https"], "source": "173.245.48.0/20"}


@pytest.fixture(autouse=True)
def lan_rule(dsm_lab):
    """The LAN may reach DSM: its usual ports and the lab's (random) HTTPS port."""
    global LAN  # pylint: disable=global-statement
    LAN = {"name": "lan", "ports": ["dsm", "https", str(dsm_lab.https_port)], "source": "127.0.0.0/8"}


@pytest.fixture
def run(dsm_lab, capsys, tmp_path):
    def _run(check_mode=False, diff=True, **args):
        base = dsm_lab.client_args(session_cache_dir=str(tmp_path / "cache"))
        base.update(args)
        return run_module(dsm_firewall, base, capsys, check_mode=check_mode, diff=diff)

    return _run


def firewall(lab):
    return lab.state()["firewall"]


def test_rules_enable_and_idempotence(run, dsm_lab):
    first = run(enabled=True, rules=[LAN, CLOUDFLARE])
    assert first["changed"] is True, first
    state = firewall(dsm_lab)
    assert state["enable_firewall"] is True and state["profile_name"] == "default"
    applied = state["applied"]["global"]
    assert applied["policy"] == "deny"
    assert [r["name"] for r in applied["rules"]] == ["lan", "cloudflare"]
    assert applied["rules"][0]["ports"] == ",".join(sorted(["443", "5000", "5001", str(dsm_lab.https_port)], key=int))
    assert applied["rules"][0]["source_ip_group"] == "subnet"
    assert first["lockout_check"] == {
        "address": "127.0.0.1",
        "port": dsm_lab.https_port,
        "action": "allow",
        "rule": "lan",
        "interface": "global",
    }
    dsm_lab.clear_log()
    second = run(enabled=True, rules=[LAN, CLOUDFLARE])
    assert second["changed"] is False and second["diff"]["before"] == second["diff"]["after"]
    assert [(c["api"], c["method"]) for c in dsm_lab.calls()] == [("SYNO.Entry.Request", "request")]


def test_rule_order_is_a_change(run, dsm_lab):
    run(enabled=True, rules=[LAN, CLOUDFLARE])
    swapped = run(enabled=True, rules=[CLOUDFLARE, LAN])
    assert swapped["changed"] is True
    assert [r["name"] for r in firewall(dsm_lab)["applied"]["global"]["rules"]] == ["cloudflare", "lan"]


def test_check_mode_changes_nothing(run, dsm_lab):
    before = firewall(dsm_lab)
    result = run(check_mode=True, enabled=True, rules=[LAN])
    assert result["changed"] is True and result["diff"]["after"]["enabled"] is True
    assert firewall(dsm_lab) == before


def test_lockout_is_refused_and_nothing_changes(run, dsm_lab):
    before = firewall(dsm_lab)
    result = run(enabled=True, rules=[CLOUDFLARE])
    assert result["failed"] is True and result["changed"] is False
    assert "would block this controller (127.0.0.1, IPv4)" in result["msg"] and "default_action: deny" in result["msg"]
    assert firewall(dsm_lab) == before
    deny_first = run(
        enabled=True, rules=[{"name": "no-dsm", "action": "deny", "ports": [str(dsm_lab.https_port)]}, LAN]
    )
    assert deny_first["failed"] is True and "rule 'no-dsm'" in deny_first["msg"]
    assert firewall(dsm_lab) == before


def test_lockout_uses_controller_address_and_can_be_overridden(run, dsm_lab):
    behind_nat = run(enabled=True, rules=[LAN], controller_address="203.0.113.9")
    assert behind_nat["failed"] is True and "203.0.113.9" in behind_nat["msg"]
    forced = run(enabled=True, rules=[CLOUDFLARE], allow_lockout=True)
    assert forced["changed"] is True and forced["lockout_check"]["action"] == "deny"
    # The mock enforces its firewall: once the profile is live DSM no longer answers this controller,
    # so the module does not wait for the apply task and says so.
    assert any("no longer answers this controller" in str(w) for w in forced.get("warnings", [])), forced
    assert firewall(dsm_lab)["enable_firewall"] is True


def test_disabled_firewall_skips_the_lockout_check(run, dsm_lab):
    result = run(enabled=False, rules=[CLOUDFLARE])
    assert result["changed"] is True and "lockout_check" not in result
    assert firewall(dsm_lab)["profiles"]["default"]["global"]["rules"][0]["name"] == "cloudflare"


@pytest.mark.parametrize(
    "rule,fragment",
    [
        ({"source": "192.168.1.7/24"}, "did you mean 192.168.1.0/24"),
        ({"ports": ["99999"]}, "rules[0].ports: 99999 is not a port"),
        ({"source": "lan"}, "rules[0].source: 'lan' is not an address"),
    ],
)
def test_bad_rules_are_refused_before_dsm_is_contacted(run, dsm_lab, rule, fragment):
    before = firewall(dsm_lab)
    result = run(enabled=True, rules=[rule])
    assert result["failed"] is True and fragment in result["msg"]
    assert dsm_lab.calls() == [] and firewall(dsm_lab) == before


def test_200_rules_noop_is_one_request(run, dsm_lab):
    rules = [LAN] + [
        {"name": "r%03d" % i, "ports": [str(10000 + i)], "source": "10.%d.%d.0/24" % (i // 256, i % 256)}
        for i in range(199)
    ]
    assert run(enabled=True, rules=rules, diff=False)["changed"] is True
    dsm_lab.clear_log()
    assert run(enabled=True, rules=rules, diff=False)["changed"] is False
    assert [(c["api"], c["method"]) for c in dsm_lab.calls()] == [("SYNO.Entry.Request", "request")]


def test_enabling_applies_the_profile_as_a_task_and_disabling_uses_set_type(run, dsm_lab):
    dsm_lab.clear_log()
    assert run(enabled=True, rules=[LAN])["changed"] is True
    calls = [(c["api"].rsplit(".", 1)[-1], c["method"]) for c in dsm_lab.calls() if c["api"] != "SYNO.API.Auth"]
    # Profile.set saves, Profile.Apply start/status(task_id)/stop makes it live and turns the firewall on.
    assert calls[-4:] == [("Profile", "set"), ("Apply", "start"), ("Apply", "status"), ("Apply", "stop")]
    assert ("Firewall", "set") not in calls
    assert firewall(dsm_lab)["enable_firewall"] is True
    dsm_lab.clear_log()
    assert run(enabled=False, rules=[LAN])["changed"] is True
    assert [(c["api"], c["method"]) for c in dsm_lab.calls()][-1] == ("SYNO.Core.Security.Firewall", "set")
    assert firewall(dsm_lab)["enable_firewall"] is False


def test_rules_saved_while_disabled_are_not_applied(run, dsm_lab):
    dsm_lab.clear_log()
    assert run(enabled=False, rules=[LAN, CLOUDFLARE])["changed"] is True
    assert not dsm_lab.calls("SYNO.Core.Security.Firewall.Profile.Apply")
    assert firewall(dsm_lab)["enable_firewall"] is False
