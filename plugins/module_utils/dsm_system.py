# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""DSM's system APIs: SYNO.DSM.Info, SYNO.Core.User, SYNO.Core.Upgrade.Setting, in the modules' terms."""

from __future__ import annotations

import datetime
import re

from ansible_collections.homelab.nas.plugins.module_utils import dsm_validate as v

INFO_API = "SYNO.DSM.Info"
USER_API = "SYNO.Core.User"
UPGRADE_API = "SYNO.Core.Upgrade.Setting"
# Update modes users know -> DSM's autoupdate_type.
UPDATE_MODES = {"security_only": "hotfix-security", "important": "hotfix", "all": "smart", "notify_only": "notify"}
DAYS = list(v.DAYS)


def is_enabled(expired, today=None):
    """DSM keeps an account's state in `expired`: "normal", "now" (disabled) or an expiry date YYYY/M/D."""
    if expired in (None, "", "normal"):
        return True
    if expired == "now":
        return False
    try:
        year, month, day = (int(part) for part in str(expired).split("/"))
        until = datetime.date(year, month, day)
    except ValueError:
        return True  # a value we do not know; DSM still lets the account log in as far as we can tell
    return until >= (today or datetime.date.today())


def update_policy(mode, days, time_of_day):
    """The policy in the module's terms, validated: days (or daily) in week order, time as HH:MM."""
    raw = [str(d).strip().lower() for d in days]
    short = list(DAYS) if "daily" in raw else [v.weekday(d) for d in raw]
    bad = [original for d, original in zip(short, days) if d is None]
    if bad or not short:
        raise v.InputError(
            "days: %s; use sun, mon, tue, wed, thu, fri, sat or daily"
            % ("'%s' is not a day" % "', '".join(bad) if bad else "none given")
        )
    match = re.match(r"^([01]?\d|2[0-3]):([0-5]\d)$", time_of_day.strip())
    if not match:
        raise v.InputError("time: '%s' is not a time of day; use HH:MM, for example 03:00" % time_of_day)
    return {
        "mode": mode,
        "days": [d for d in DAYS if d in short],
        "time": "%02d:%02d" % (int(match.group(1)), int(match.group(2))),
    }


def _policy_to_dsm(policy):
    hour, minute = (int(x) for x in policy["time"].split(":"))
    return {
        "autoupdate_enable": policy["mode"] != "notify_only",
        "autoupdate_type": UPDATE_MODES[policy["mode"]],
        "schedule": {"week_day": ",".join(str(DAYS.index(d)) for d in policy["days"]), "hour": hour, "minute": minute},
    }


def _policy_from_dsm(setting):
    mode = next((m for m, t in UPDATE_MODES.items() if t == setting.get("autoupdate_type")), None)
    if not setting.get("autoupdate_enable"):
        mode = "notify_only"
    schedule = setting.get("schedule") or {}
    days = [DAYS[int(d)] for d in str(schedule.get("week_day", "")).split(",") if d.strip().isdigit()]
    return {
        "mode": mode,
        "days": days,
        "time": "%02d:%02d" % (int(schedule.get("hour", 0)), int(schedule.get("minute", 0))),
    }


class DsmSystem:
    def __init__(self, client):
        self.client = client

    def info(self):
        """Model and DSM version; also a cheap authenticated read that proves a session."""
        info = self.client.read(INFO_API, "getinfo", 2)
        return {k: info.get(k) for k in ("model", "version", "version_string")}

    def users(self):
        """{account name: {"enabled": bool}} for every local account."""
        users = self.client.read(USER_API, "list", 1, offset=0, limit=-1, additional=["expired"]).get("users", [])
        return {u["name"]: {"enabled": is_enabled(u.get("expired"))} for u in users}

    def account(self, name):
        """{"administrator": bool, "two_factor": bool} of one local account (None if DSM does not list it):
        administrators by the `administrators` group, 2FA by `2fa_status` (SYNO.Core.User list `additional`)."""
        users = self.client.read(USER_API, "list", 1, offset=0, limit=-1, additional=["groups", "2fa_status"]).get(
            "users", []
        )
        for user in users:
            if user.get("name") == name:
                return {
                    "administrator": "administrators" in (user.get("groups") or []),
                    "two_factor": bool(user.get("2fa_status")),
                }
        return None

    def set_user_enabled(self, name, enabled):
        self.client.write(USER_API, "set", 1, name=name, expired="normal" if enabled else "now")

    def update_policy(self):
        return _policy_from_dsm(self.client.read(UPGRADE_API, "get", 2))

    def set_update_policy(self, policy):
        # DSM wants the whole object.
        self.client.write(UPGRADE_API, "set", 2, **_policy_to_dsm(policy))
