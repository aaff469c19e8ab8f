"""SYNO.DSM.Info (getinfo), SYNO.Core.User (list/get/set) and SYNO.Core.Upgrade.Setting (get/set)."""

from __future__ import annotations

import datetime
import re

from tests.lab.mock_dsm.api import Api
from tests.lab.mock_dsm.errors import ApiError
from tests.lab.mock_dsm.params import boolean, invalid, json_value, maybe_json, required, text

UPDATE_TYPES = ("hotfix-security", "hotfix", "smart", "notify")
# What `additional` may ask SYNO.Core.User for (N4S4's user_list/user_get docstrings, batonogov's client).
USER_FIELDS = ("description", "email", "expired", "groups", "2fa_status", "cannot_chg_passwd",
               "passwd_never_expire", "password_last_change", "is_password_pending")
UPGRADE_FULL = ("autoupdate_enable", "autoupdate_type", "schedule")


def apis(dsm):
    s = System(dsm.state)
    return {
        # go-synology's DSM 7.2 dump lists DSM.Info with versions 2-2 only.
        "SYNO.DSM.Info": Api("entry.cgi", 2, 2, {"getinfo": (s.dsm_info, False)}, admin=False),
        "SYNO.Core.User": Api("entry.cgi", 1, 1, {
            "list": (s.user_list, False), "get": (s.user_get, False), "set": (s.user_set, True)}),
        "SYNO.Core.Upgrade.Setting": Api("entry.cgi", 1, 4, {
            "get": (s.upgrade_get, False), "set": (s.upgrade_set, True)}),
    }


def _expiry_date(value):
    """DSM's YYYY/M/D (batonogov: "an ISO date with dashes is rejected outright with error 3103")."""
    match = re.fullmatch(r"(\d{4})/(\d{1,2})/(\d{1,2})", value)
    if not match:
        raise ApiError(3103)
    try:
        return datetime.date(*(int(g) for g in match.groups()))
    except ValueError:
        raise ApiError(3103)


class System:
    def __init__(self, state):
        self.state = state

    @property
    def data(self):
        return self.state.data

    def dsm_info(self, request):
        # DSM adds its clock in asctime form ("Sat Aug  7 13:04:04 2021", home-assistant/core#54238).
        now = datetime.datetime.now()
        return dict(self.data["dsm_info"], time="%s %2d %s" % (now.strftime("%a %b"), now.day,
                                                               now.strftime("%H:%M:%S %Y")))

    # -- users ------------------------------------------------------------------------
    def _describe_user(self, name, user, fields):
        """name and uid always; other fields only when `additional` asks (no invented is_admin: clients
        learn administrators from `groups`)."""
        out = {"name": name, "uid": user["uid"]}
        values = {"description": "", "email": "", "expired": user["expired"], "groups": list(user["groups"]),
                  "2fa_status": bool(user.get("otp_secret")), "cannot_chg_passwd": False,
                  "passwd_never_expire": True, "password_last_change": 19700, "is_password_pending": False}
        out.update({field: values[field] for field in fields if field in values})
        return out

    @staticmethod
    def _additional(request):
        raw = request.param("additional")
        wanted = maybe_json(raw) if raw is not None else []
        if isinstance(wanted, str):
            wanted = [wanted]
        if not isinstance(wanted, list):
            raise invalid("additional")
        return [f for f in wanted if f in USER_FIELDS]

    def user_list(self, request):
        fields = self._additional(request)
        users = [self._describe_user(n, u, fields) for n, u in sorted(self.data["users"].items())]
        offset = int(maybe_json(request.param("offset", "0")) or 0)
        limit = int(maybe_json(request.param("limit", "-1")))
        shown = users[offset:] if limit < 0 else users[offset:offset + limit]
        return {"offset": offset, "total": len(users), "users": shown}

    def _user(self, request):
        name = text(required(request, "name"), "name")
        user = self.data["users"].get(name)
        if user is None:
            raise ApiError(3106)  # "user not found" (batonogov; N4S4's error table)
        return name, user

    def user_get(self, request):
        name, user = self._user(request)
        return {"users": [self._describe_user(name, user, self._additional(request))]}

    def user_set(self, request):
        name, user = self._user(request)
        expired = request.param("expired")
        if expired is None:
            return {}
        expired = text(expired, "expired")
        if expired in ("now", "normal"):
            user["expired"] = expired
            user["disabled"] = expired == "now"
        else:
            until = _expiry_date(expired)
            user["expired"] = "%d/%d/%d" % (until.year, until.month, until.day)  # DSM drops leading zeros
            user["disabled"] = until < datetime.date.today()
        self.state.save()
        return {}

    # -- update policy ----------------------------------------------------------------------
    def upgrade_get(self, request):
        return dict(self.data["upgrade"])

    def upgrade_set(self, request):
        """Sources conflict: krg-infra writes the full object (v2, "empirically confirmed"); N4S4 says
        only `smart_nano_enabled` is settable. Both are accepted; part of the full object alone is 114
        (the lab's choice)."""
        given = [field for field in UPGRADE_FULL if request.param(field) is not None]
        smart_nano = request.param("smart_nano_enabled")
        if not given and smart_nano is None:
            raise ApiError(114)
        if given and len(given) != len(UPGRADE_FULL):
            raise ApiError(114)
        update = {}
        if smart_nano is not None:
            update["smart_nano_enabled"] = boolean(json_value(smart_nano, "smart_nano_enabled"))
        if given:
            update["autoupdate_enable"] = boolean(json_value(request.param("autoupdate_enable"), "autoupdate_enable"))
            update["autoupdate_type"] = text(request.param("autoupdate_type"), "autoupdate_type")
            if update["autoupdate_type"] not in UPDATE_TYPES:
                raise invalid("autoupdate_type")
            schedule = json_value(request.param("schedule"), "schedule")
            try:
                valid = isinstance(schedule, dict) and \
                    set(str(schedule.get("week_day", "")).split(",")) <= {str(d) for d in range(7)} and \
                    0 <= int(schedule.get("hour", -1)) <= 23 and 0 <= int(schedule.get("minute", -1)) <= 59
            except (TypeError, ValueError):
                valid = False
            if not valid:
                raise invalid("schedule")
            update["schedule"] = schedule
        self.data["upgrade"].update(update)
        self.state.save()
        return {}
