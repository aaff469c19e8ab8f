"""dsm_security, dsm_user and dsm_update_policy against the mock DSM."""

from __future__ import annotations

from contextlib import closing

import pyotp
import pytest

from ansible_collections.homelab.nas.plugins.modules import dsm_security, dsm_session, dsm_update_policy, dsm_user
from tests.lab.mock_dsm.seed import OTP_SECRET
from tests.unit.plugins.modules.runner import run_module

CLOUDFLARE = ["173.245.48.0/20", "2400:cb00::/32", "103.21.244.0/22"]


@pytest.fixture
def run(dsm_lab, capsys, tmp_path):
    def _run(module, check_mode=False, diff=True, **args):
        base = dsm_lab.client_args(session_cache_dir=str(tmp_path / "cache"))
        base.update(args)
        return run_module(module, base, capsys, check_mode=check_mode, diff=diff)

    return _run


def security(lab):
    return lab.state()["security"]


SEED = dict(
    trusted_proxies=CLOUDFLARE,
    dos_protection={"eth0": True},
    auto_block={"attempts": 5, "within_minutes": 5, "allow_list": ["127.0.0.1", "192.168.1.0/24"]},
    account_protection={},
    two_factor_enforcement="administrators",
)


@pytest.fixture
def remembered(run):
    """otp-admin (an administrator with 2FA) after the one-time login with a code that saves a device token,
    as playbooks/dsm_login.yml does it."""
    once = run(dsm_session, username="otp-admin", otp_code=pyotp.TOTP(OTP_SECRET).now(), enable_device_token=True)
    assert once["device_token_saved"] is True, once
    return dict(username="otp-admin")


def test_security_settings_applied_then_noop_is_one_request(run, dsm_lab, remembered):
    first = run(dsm_security, **SEED, **remembered)
    assert first["changed"] is True
    state = security(dsm_lab)
    assert sorted(state["trusted_proxies"]) == sorted(CLOUDFLARE)
    assert state["dos"] == {"eth0": True, "eth1": False}
    assert state["autoblock"] == {"enable": True, "attempts": 5, "within_mins": 5, "expire_day": 0}
    assert sorted(e["ip"] for e in state["autoblock_lists"]["allow"]) == ["127.0.0.1/32", "192.168.1.0/24"]
    assert state["smartblock"]["enabled"] is True and state["otp_enforce_option"] == "admin"
    dsm_lab.clear_log()
    again = run(dsm_security, **SEED, **remembered)
    assert again["changed"] is False and again["diff"]["before"] == again["diff"]["after"]
    assert [(c["api"], c["method"]) for c in dsm_lab.calls()] == [("SYNO.Entry.Request", "request")]


@pytest.mark.parametrize("enforce", ["administrators", "all"])
def test_two_factor_enforcement_covering_an_account_without_2fa_is_refused_before_any_write(run, dsm_lab, enforce):
    before = dsm_lab.state()
    result = run(dsm_security, **dict(SEED, two_factor_enforcement=enforce))
    assert result.get("failed") is True and result["changed"] is False, result
    assert result["msg"].startswith("two_factor_enforcement: %s would enforce" % enforce)
    assert "'ansible'" in result["msg"] and "406" in result["msg"] and "dsm_login.yml" in result["msg"]
    assert dsm_lab.state()["security"] == before["security"]
    assert [c for c in dsm_lab.calls() if c["method"] == "set"] == []


def test_two_factor_for_everyone_is_refused_for_an_account_with_2fa_but_no_device_token(run, dsm_lab):
    code = pyotp.TOTP(OTP_SECRET).now()
    result = run(dsm_security, username="otp-admin", otp_code=code, two_factor_enforcement="all")
    assert result.get("failed") is True and "no device token" in result["msg"], result
    assert security(dsm_lab)["otp_enforce_option"] == "none"


def test_a_device_token_dsm_does_not_accept_is_refused(run, dsm_lab):
    # This run logs in with a code; the token it would rely on later is one DSM forgot (or never issued).
    code = pyotp.TOTP(OTP_SECRET).now()
    args = dict(username="otp-admin", otp_code=code, device_id="stale-token-0000")
    result = run(dsm_security, two_factor_enforcement="administrators", **args)
    assert result.get("failed") is True and "(forgotten or revoked)" in result["msg"], result
    assert security(dsm_lab)["otp_enforce_option"] == "none"


def test_enforcement_that_does_not_cover_the_account_or_is_already_in_place_needs_no_token(run, dsm_lab, remembered):
    assert run(dsm_security, two_factor_enforcement="none")["changed"] is False
    assert run(dsm_security, two_factor_enforcement="all", **remembered)["changed"] is True
    assert security(dsm_lab)["otp_enforce_option"] == "user"
    # The account unattended, on a later run: the saved device token logs it in, no code needed.
    fresh = run(dsm_session, state="absent", **remembered)
    assert fresh.get("failed") is not True, fresh
    later = run(dsm_security, two_factor_enforcement="all", **remembered)
    assert later["changed"] is False and later.get("failed") is not True, later


def test_trusted_proxies_compare_as_sets_and_lists_are_exact(run, dsm_lab, remembered):
    run(dsm_security, **SEED, **remembered)
    assert run(dsm_security, trusted_proxies=list(reversed(CLOUDFLARE)), **remembered)["changed"] is False
    result = run(
        dsm_security, auto_block={"attempts": 5, "within_minutes": 5, "allow_list": ["10.0.0.0/8"]}, **remembered
    )
    assert result["changed"] is True
    assert [e["ip"] for e in security(dsm_lab)["autoblock_lists"]["allow"]] == ["10.0.0.0/8"]


def test_security_check_mode(run, dsm_lab, remembered):
    before = security(dsm_lab)
    result = run(dsm_security, check_mode=True, **SEED, **remembered)
    assert result["changed"] is True and security(dsm_lab) == before


@pytest.mark.parametrize(
    "args,fragment",
    [
        ({"trusted_proxies": ["173.245.48.1/20"]}, "did you mean 173.245.48.0/20"),
        ({"trusted_proxies": ["cloudflare"]}, "'cloudflare' is not an IP network"),
        ({"auto_block": {"attempts": 0}}, "auto_block.attempts: 0 is out of range"),
        ({"dos_protection": {"eth0": "yes please"}}, "dos_protection.eth0"),
    ],
)
def test_security_bad_input(run, dsm_lab, args, fragment):
    before = security(dsm_lab)
    result = run(dsm_security, **args)
    assert result["failed"] is True and fragment in result["msg"]
    assert dsm_lab.calls() == [] and security(dsm_lab) == before


def test_unknown_interface_is_refused(run, dsm_lab):
    before = security(dsm_lab)
    result = run(dsm_security, dos_protection={"eth9": True})
    assert result["failed"] is True and "no interface eth9" in result["msg"] and "eth0, eth1" in result["msg"]
    assert security(dsm_lab) == before


def test_disable_admin_and_guest(run, dsm_lab):
    # admin and guest ship disabled on DSM 7; enable admin first to see a change.
    assert run(dsm_user, name=["admin"], enabled=True)["changed"] is True
    assert dsm_lab.state()["users"]["admin"]["disabled"] is False
    result = run(dsm_user, name=["admin", "guest"], enabled=False)
    assert result["changed"] is True and result["diff"]["before"]["admin"] == {"enabled": True}
    assert dsm_lab.state()["users"]["admin"]["disabled"] is True
    assert run(dsm_user, name=["admin", "guest"], enabled=False)["changed"] is False


def test_refuses_to_disable_its_own_account(run, dsm_lab):
    result = run(dsm_user, name=["ansible"], enabled=False)
    assert result["failed"] is True and "the account this task logs in with" in result["msg"]
    assert dsm_lab.calls() == [] and dsm_lab.state()["users"]["ansible"]["disabled"] is False


def test_an_account_past_its_expiry_date_counts_as_disabled(run, dsm_lab):
    import datetime

    from ansible_collections.homelab.nas.plugins.module_utils.dsm_system import is_enabled

    today = datetime.date(2026, 12, 1)
    assert is_enabled("2026/12/1", today) and not is_enabled("2026/11/30", today)
    assert is_enabled("normal", today) and not is_enabled("now", today)
    # DSM accepts a YYYY/M/D date for `expired` (batonogov's provider); a past one disables the account.
    client_args = dsm_lab.client_args()
    from ansible_collections.homelab.nas.plugins.module_utils.dsm_client import DsmClient

    with closing(DsmClient(session_cache=False, **client_args)) as client:
        client.write("SYNO.Core.User", "set", 1, name="alice", expired="2001/1/1")
    result = run(dsm_user, name=["alice"], enabled=True)
    assert result["changed"] is True and result["diff"]["before"]["alice"] == {"enabled": False}
    assert run(dsm_user, name=["alice"], enabled=True)["changed"] is False


def test_unknown_account(run, dsm_lab):
    result = run(dsm_user, name=["mallory"], enabled=False)
    assert result["failed"] is True and "no account mallory" in result["msg"]


def test_update_policy(run, dsm_lab):
    result = run(dsm_update_policy, mode="security_only", days=["sun", "Wednesday"], time="3:30")
    assert result["changed"] is True and result["policy"] == {
        "mode": "security_only",
        "days": ["sun", "wed"],
        "time": "03:30",
    }
    upgrade = dsm_lab.state()["upgrade"]
    assert {k: upgrade[k] for k in ("autoupdate_enable", "autoupdate_type", "schedule")} == {
        "autoupdate_enable": True,
        "autoupdate_type": "hotfix-security",
        "schedule": {"week_day": "0,3", "hour": 3, "minute": 30},
    }
    assert run(dsm_update_policy, mode="security_only", days=["wed", "sun"], time="03:30")["changed"] is False
    notify = run(dsm_update_policy, mode="notify_only")
    assert notify["changed"] is True and dsm_lab.state()["upgrade"]["autoupdate_enable"] is False


@pytest.mark.parametrize(
    "args,fragment",
    [
        ({"mode": "all", "days": ["someday"]}, "'someday' is not a day"),
        # Never a prefix match: monkey is no Monday, nor "satur" a Saturday.
        ({"mode": "all", "days": ["monkey", "sun"]}, "'monkey' is not a day"),
        ({"mode": "all", "days": ["satur"]}, "'satur' is not a day"),
        ({"mode": "all", "time": "25:00"}, "time: '25:00' is not a time of day"),
    ],
)
def test_update_policy_bad_input(run, dsm_lab, args, fragment):
    before = dsm_lab.state()["upgrade"]
    result = run(dsm_update_policy, **args)
    assert result["failed"] is True and fragment in result["msg"]
    assert dsm_lab.calls() == [] and dsm_lab.state()["upgrade"] == before
