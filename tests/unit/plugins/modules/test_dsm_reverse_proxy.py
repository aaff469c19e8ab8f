"""dsm_reverse_proxy against the mock DSM."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.nas.plugins.modules import dsm_reverse_proxy
from tests.unit.plugins.modules.runner import run_module

API = "SYNO.Core.AppPortal.ReverseProxy"
PHOTOS = {"frontend": {"hostname": "photos.example.test"}, "backend": {"port": 8080}}


@pytest.fixture
def run(dsm_lab, capsys, tmp_path):
    def _run(check_mode=False, diff=True, **args):
        base = dsm_lab.client_args(session_cache_dir=str(tmp_path / "cache"))
        base.update(args)
        return run_module(dsm_reverse_proxy, base, capsys, check_mode=check_mode, diff=diff)

    return _run


def entries(lab):
    return {e["frontend"]["fqdn"]: e for e in lab.state()["reverse_proxy"].values()}


def writes(lab):
    return [c for c in lab.calls(API) if c["method"] != "list"]


def test_create_update_and_idempotence(run, dsm_lab):
    rule = {
        "description": "jellyfin",
        "frontend": {"hostname": "media.example.test"},
        "backend": {"host": "192.168.1.20", "port": 8096},
        "websocket": True,
    }
    first = run(rules=[rule])
    assert first["changed"] is True
    media = entries(dsm_lab)["media.example.test"]
    assert media["backend"] == {"fqdn": "192.168.1.20", "port": 8096, "protocol": 0}
    assert media["frontend"]["https"] == {"hsts": True, "http2": True}
    assert {"name": "Upgrade", "value": "$http_upgrade"} in media["customize_headers"]
    # The new HTTPS hostname becomes a certificate service, as on DSM.
    assert any(s["display_name"] == "media.example.test" for s in dsm_lab.state()["services"].values())

    dsm_lab.clear_log()
    again = run(rules=[rule])
    assert again["changed"] is False and writes(dsm_lab) == []

    changed = run(rules=[dict(rule, backend={"host": "192.168.1.20", "port": 8097})])
    assert changed["changed"] is True
    assert changed["diff"]["before"]["jellyfin"]["backend"]["port"] == 8096
    assert entries(dsm_lab)["media.example.test"]["backend"]["port"] == 8097
    assert entries(dsm_lab)["media.example.test"]["UUID"] == media["UUID"]


def test_existing_rule_is_matched_by_frontend_and_updated(run, dsm_lab):
    result = run(rules=[dict(PHOTOS, description="photos", hsts=True)])
    assert result["changed"] is True  # the seeded rule has HSTS off
    assert entries(dsm_lab)["photos.example.test"]["frontend"]["https"]["hsts"] is True
    assert len(dsm_lab.state()["reverse_proxy"]) == 2


def test_exclusive_deletes_undeclared_rules_and_check_mode_only_reports(run, dsm_lab):
    before = dsm_lab.state()["reverse_proxy"]
    planned = run(check_mode=True, rules=[dict(PHOTOS, description="photos")], exclusive=True)
    assert planned["changed"] is True and planned["deleted"] == ["nas"]
    assert "nas" in planned["diff"]["before"] and "nas" not in planned["diff"]["after"]
    assert dsm_lab.state()["reverse_proxy"] == before and writes(dsm_lab) == []
    run(rules=[dict(PHOTOS, description="photos")], exclusive=True)
    assert list(entries(dsm_lab)) == ["photos.example.test"]


def test_with_a_prefix_exclusive_deletes_only_our_rules_after_creating(run, dsm_lab):
    media = {"description": "media", "frontend": {"hostname": "media.example.test"}, "backend": {"port": 8096}}
    first = run(rules=[dict(PHOTOS, description="photos"), media], description_prefix="homelab.nas", exclusive=True)
    # The seeded rules: photos is declared (matched by frontend, and now ours), nas was made by hand and stays.
    assert first["changed"] is True and first["deleted"] == []
    assert entries(dsm_lab)["photos.example.test"]["description"] == "homelab.nas: photos"
    assert entries(dsm_lab)["nas.example.test"]["description"] == "nas"
    before = dsm_lab.state()["reverse_proxy"]
    planned = run(check_mode=True, rules=[media], description_prefix="homelab.nas", exclusive=True)
    assert planned["deleted"] == ["homelab.nas: photos"] and dsm_lab.state()["reverse_proxy"] == before
    assert "homelab.nas: photos" in planned["diff"]["before"] and "homelab.nas: photos" not in planned["diff"]["after"]
    dsm_lab.clear_log()
    run(rules=[dict(media, backend={"port": 8097})], description_prefix="homelab.nas", exclusive=True)
    assert [c["method"] for c in writes(dsm_lab)] == ["update", "delete"]
    assert sorted(entries(dsm_lab)) == ["media.example.test", "nas.example.test"]
    assert (
        run(rules=[dict(media, backend={"port": 8097})], description_prefix="homelab.nas", exclusive=True)["changed"]
        is False
    )


def test_a_failing_delete_leaves_the_new_rule_in_place_and_the_rerun_converges(run, dsm_lab):
    media = {"description": "media", "frontend": {"hostname": "media.example.test"}, "backend": {"port": 8096}}
    run(rules=[dict(PHOTOS, description="photos")], description_prefix="homelab.nas")
    dsm_lab.fault(fail_next={"api": API, "method": "delete", "code": 117})
    failed = run(rules=[media], description_prefix="homelab.nas", exclusive=True)
    assert failed["failed"] and sorted(entries(dsm_lab)) == [
        "media.example.test",
        "nas.example.test",
        "photos.example.test",
    ]
    assert run(rules=[media], description_prefix="homelab.nas", exclusive=True)["deleted"] == ["homelab.nas: photos"]
    assert sorted(entries(dsm_lab)) == ["media.example.test", "nas.example.test"]


def test_absent_rule_is_deleted(run, dsm_lab):
    result = run(rules=[{"frontend": {"hostname": "nas.example.test"}, "backend": {"port": 5000}, "state": "absent"}])
    assert result["changed"] is True and "nas.example.test" not in entries(dsm_lab)


def test_access_control_profile_by_name(run, dsm_lab):
    run(rules=[dict(PHOTOS, description="photos", access_control_profile="LAN only")])
    assert entries(dsm_lab)["photos.example.test"]["frontend"]["acl"] == "6f1c2b8e-5d2a-4c55-9a1e-1c0ffee00001"
    result = run(rules=[dict(PHOTOS, description="photos", access_control_profile="Nope")])
    assert result["failed"] is True and "'Nope' does not exist" in result["msg"] and "LAN only" in result["msg"]


@pytest.mark.parametrize(
    "rule,fragment",
    [
        ({"frontend": {"hostname": "bad_host.example.test"}, "backend": {"port": 80}}, "rules[0].frontend.hostname"),
        ({"frontend": {"hostname": "a.*.example.test"}, "backend": {"port": 80}}, "not a valid hostname"),
        (
            {"frontend": {"hostname": "ok.example.test", "port": 0}, "backend": {"port": 80}},
            "rules[0].frontend.port: 0",
        ),
        ({"frontend": {"hostname": "ok.example.test"}, "backend": {"port": 70000}}, "rules[0].backend.port: 70000"),
        (
            {"frontend": {"hostname": "ok.example.test"}, "backend": {"port": 80}, "timeouts": {"read": 0}},
            "timeouts.read",
        ),
    ],
)
def test_bad_input_is_refused_before_dsm_is_contacted(run, dsm_lab, rule, fragment):
    before = dsm_lab.state()["reverse_proxy"]
    result = run(rules=[rule])
    assert result["failed"] is True and fragment in result["msg"]
    assert dsm_lab.calls() == [] and dsm_lab.state()["reverse_proxy"] == before


def test_two_rules_on_one_frontend_are_refused(run, dsm_lab):
    result = run(rules=[PHOTOS, dict(PHOTOS, backend={"port": 9090})])
    assert result["failed"] is True and "already used by rules[0]" in result["msg"]
    assert dsm_lab.calls() == []


def test_wildcard_frontend_is_accepted(run, dsm_lab):
    assert run(rules=[{"frontend": {"hostname": "*.apps.example.test"}, "backend": {"port": 8000}}])["changed"]
    assert "*.apps.example.test" in entries(dsm_lab)


def test_500_rules_noop_is_one_list_call(run, dsm_lab):
    rules = [
        {
            "description": "app%03d" % i,
            "frontend": {"hostname": "app%03d.example.test" % i},
            "backend": {"port": 10000 + i},
        }
        for i in range(500)
    ]
    first = run(rules=rules, exclusive=True, diff=False)
    assert first["changed"] is True and len(dsm_lab.state()["reverse_proxy"]) == 500
    dsm_lab.clear_log()
    second = run(rules=rules, exclusive=True, diff=False)
    assert second["changed"] is False
    # With the session (and API list) cached, the whole no-op task is one HTTP request.
    assert [(c["api"], c["method"]) for c in dsm_lab.calls()] == [(API, "list")]
