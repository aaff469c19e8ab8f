"""dsm_system against the mock DSM: DSM info, accounts, update policy."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.homelab.nas.plugins.module_utils import dsm_validate as v
from ansible_collections.homelab.nas.plugins.module_utils.dsm_system import DsmSystem, is_enabled, update_policy


def test_info_is_model_and_version(dsm_client):
    assert DsmSystem(dsm_client).info() == {
        "model": "DS920+",
        "version": "72806",
        "version_string": "DSM 7.2.2-72806 Update 3",
    }


def test_accounts_read_and_disabled(dsm_client, dsm_lab):
    system = DsmSystem(dsm_client)
    users = system.users()
    assert users["admin"] == {"enabled": False} and users["ansible"] == {"enabled": True}
    system.set_user_enabled("alice", False)
    assert dsm_lab.state()["users"]["alice"]["expired"] == "now"
    assert system.users()["alice"] == {"enabled": False}
    system.set_user_enabled("alice", True)
    assert system.users()["alice"] == {"enabled": True}


def test_an_expiry_date_counts_until_it_passes():
    today = datetime.date(2026, 6, 1)
    assert is_enabled("2026/6/1", today) is True and is_enabled("2026/5/31", today) is False


def test_update_policy_round_trips_through_dsm(dsm_client, dsm_lab):
    system = DsmSystem(dsm_client)
    assert system.update_policy() == {"mode": "notify_only", "days": ["sun"], "time": "03:00"}
    wanted = update_policy("security_only", ["Monday", "fri"], "4:05")
    assert wanted == {"mode": "security_only", "days": ["mon", "fri"], "time": "04:05"}
    system.set_update_policy(wanted)
    stored = dsm_lab.state()["upgrade"]
    assert stored["autoupdate_type"] == "hotfix-security" and stored["autoupdate_enable"] is True
    assert stored["schedule"] == {"week_day": "1,5", "hour": 4, "minute": 5}
    assert system.update_policy() == wanted


@pytest.mark.parametrize(
    "days,time,fragment",
    [
        (["someday"], "03:00", "days: 'someday' is not a day"),
        ([], "03:00", "days: none given"),
        (["daily"], "25:00", "time: '25:00' is not a time of day"),
    ],
)
def test_update_policy_input_names_the_field(days, time, fragment):
    with pytest.raises(v.InputError, match=fragment):
        update_policy("all", days, time)
