"""Token verification and zones (list with filters, get one).

`GET /zones` filters as cloudflare-python 5.9 ZoneListParams documents them: `name` and `account.name`
with an optional operator prefix (`equal` default, `not_equal`, `starts_with`, `ends_with`, `contains`,
each also `_case_sensitive`), `status`, `account.id`, `match` (all/any), `order`, `direction`; 20 per page,
at most 50. `/zones/` with a trailing slash is served too: ddclient 3.10 sends `GET .../zones/?name=`
(ddclient/ddclient#339) and works against Cloudflare.
"""

from __future__ import annotations

from tests.lab.mock_cloudflare.envelope import page
from tests.lab.mock_cloudflare.errors import ApiError

NAME_OPERATORS = ("equal", "not_equal", "starts_with", "ends_with", "contains", "starts_with_case_sensitive",
                  "ends_with_case_sensitive", "contains_case_sensitive")
ORDERS = {"name": ("name",), "status": ("status",), "account.id": ("account", "id"),
          "account.name": ("account", "name"), "plan.id": ("plan", "id")}


def routes(app):
    z = Zones(app)
    return [
        ("GET", r"/user/tokens/verify", z.verify_token, False),
        ("GET", r"/zones/?", z.list_zones, False),
        ("GET", r"/zones/(?P<zone>[0-9a-f]{32})", z.get_zone, False),
    ]


def _bad(message):
    return ApiError(400, 1001, message)  # the code for a malformed zone query is the lab's choice


def _name_test(spec):
    """A test for `op:value` (op optional) as the zone list's name filters take it."""
    operator, sep, value = spec.partition(":")
    if not sep or operator not in NAME_OPERATORS:
        operator, value = "equal", spec
    sensitive = operator.endswith("_case_sensitive")
    operator = operator.replace("_case_sensitive", "")
    wanted = value if sensitive else value.lower()
    fold = (lambda v: v) if sensitive else (lambda v: v.lower())
    return {"equal": lambda v: fold(v) == wanted, "not_equal": lambda v: fold(v) != wanted,
            "starts_with": lambda v: fold(v).startswith(wanted), "ends_with": lambda v: fold(v).endswith(wanted),
            "contains": lambda v: wanted in fold(v)}[operator]


class Zones:
    def __init__(self, app):
        self.app = app

    def verify_token(self, request, token, **_):
        if token.get("global_key"):
            raise ApiError(400, 9109, "Invalid access token")  # only API tokens can be verified here
        return {"id": token["id"], "status": "active"}, None

    def list_zones(self, request, **_):
        query = request.query
        tests = []
        if query.get("name"):
            test = _name_test(query["name"].rstrip("."))
            tests.append(lambda z: test(z["name"]))
        if query.get("account.name"):
            account_test = _name_test(query["account.name"])
            tests.append(lambda z: account_test(z["account"]["name"]))
        if query.get("account.id"):
            tests.append(lambda z: z["account"]["id"] == query["account.id"])
        if query.get("status"):
            tests.append(lambda z: z["status"] == query["status"])
        match = query.get("match", "all")
        direction = query.get("direction", "asc")
        order = query.get("order", "name")
        if match not in ("all", "any") or direction not in ("asc", "desc") or order not in ORDERS:
            raise _bad("match, order or direction has an unknown value")
        combine = all if match == "all" else any
        zones = [z for z in self.app.data["zones"].values() if not tests or combine(t(z) for t in tests)]

        def key(zone):
            value = zone
            for part in ORDERS[order]:
                value = value.get(part) or ""
            return str(value)
        zones.sort(key=key, reverse=direction == "desc")
        return page(request, zones, default=20, maximum=50)

    def get_zone(self, request, zone, **_):
        return self.app.zone(zone), None
