"""Token verification and zones (list with a name filter, get one)."""

from __future__ import annotations

from tests.lab.mock_cloudflare.envelope import page


def routes(app):
    z = Zones(app)
    return [
        ("GET", r"/user/tokens/verify", z.verify_token, False),
        ("GET", r"/zones", z.list_zones, False),
        ("GET", r"/zones/(?P<zone>[0-9a-f]{32})", z.get_zone, False),
    ]


class Zones:
    def __init__(self, app):
        self.app = app

    def verify_token(self, request, token, **_):
        return {"id": token["id"], "status": "active"}, None

    def list_zones(self, request, **_):
        zones = sorted(self.app.data["zones"].values(), key=lambda z: z["name"])
        name = request.query.get("name")
        if name:
            zones = [z for z in zones if z["name"] == name.lower().rstrip(".")]
        return page(request, zones, default=20, maximum=50)

    def get_zone(self, request, zone, **_):
        return self.app.zone(zone), None
