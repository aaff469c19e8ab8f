"""GET /ips: Cloudflare's published ranges, served without authentication."""

from __future__ import annotations


def routes(app):
    return [("GET", r"/ips", lambda request, **_: (dict(app.data["ips"]), None), None)]
