"""SYNO.DSM.Info (getinfo), SYNO.Core.User (list/set) and SYNO.Core.Upgrade.Setting (get/set)."""

from __future__ import annotations

from tests.lab.mock_dsm.api import Api
from tests.lab.mock_dsm.errors import ApiError
from tests.lab.mock_dsm.params import boolean, json_value, text

UPDATE_TYPES = ("hotfix-security", "hotfix", "smart", "notify")


def apis(dsm):
    s = System(dsm.state)
    return {
        "SYNO.DSM.Info": Api("entry.cgi", 1, 2, {"getinfo": (s.dsm_info, False)}, admin=False),
        "SYNO.Core.User": Api("entry.cgi", 1, 1, {"list": (s.user_list, False), "set": (s.user_set, True)}),
        "SYNO.Core.Upgrade.Setting": Api("entry.cgi", 1, 2, {
            "get": (s.upgrade_get, False), "set": (s.upgrade_set, True)}),
    }


class System:
    def __init__(self, state):
        self.state = state

    @property
    def data(self):
        return self.state.data

    def dsm_info(self, request):
        return dict(self.data["dsm_info"])

    def user_list(self, request):
        return {"users": [{"name": name, "expired": "now" if user["disabled"] else "normal",
                           "is_admin": user["admin"]} for name, user in sorted(self.data["users"].items())],
                "total": len(self.data["users"])}

    def user_set(self, request):
        user = self.data["users"].get(text(request.param("name", "")))
        if user is None:
            raise ApiError(3106)  # no such user
        expired = text(request.param("expired", ""))
        if expired not in ("now", "normal"):
            raise ApiError(101)
        user["disabled"] = expired == "now"
        self.state.save()
        return {}

    def upgrade_get(self, request):
        return dict(self.data["upgrade"])

    def upgrade_set(self, request):
        """Full object (a partial one is refused)."""
        fields = {"autoupdate_enable": bool, "autoupdate_type": str, "schedule": dict}
        values = {}
        for field, kind in fields.items():
            raw = request.param(field)
            if raw is None:
                raise ApiError(101)
            value = text(raw) if kind is str else json_value(raw)
            if kind is bool:
                value = boolean(value)
            values[field] = value
        schedule = values["schedule"]
        if values["autoupdate_type"] not in UPDATE_TYPES or not isinstance(schedule, dict) or \
                not set(str(schedule.get("week_day", "")).split(",")) <= {str(d) for d in range(7)} or \
                not 0 <= int(schedule.get("hour", -1)) <= 23 or not 0 <= int(schedule.get("minute", -1)) <= 59:
            raise ApiError(101)
        self.data["upgrade"] = values
        self.state.save()
        return {}
