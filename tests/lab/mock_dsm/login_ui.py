"""SYNO.API.Auth.UIConfig: what DSM 7's login page fetches first, and where it gets the Noise server key.

Listed in GS api_info.json (entry.cgi, v1). Answered without a session: the login page (and
synology-api's DSM 7 login, which posts to the path-style `entry.cgi/SYNO.API.Auth.UIConfig`) calls
it before logging in. The `_SSID` cookie carries the server's X25519 key (see noise_login.py); it is
not HttpOnly because the login page's script reads it. `data` has the shape PM's DSM 7.4 probe shows
(a list of {jsPath, texts, version}); the values are the lab's own.
"""

from __future__ import annotations

from tests.lab.mock_dsm.api import Api, envelope_ok


def apis(dsm):
    sessions = dsm.sessions

    def get(request):
        data = [{"jsPath": "webman/2fa/authenticator.js", "texts": {"authenticator": {}}, "version": "1"}]
        return envelope_ok(data, {"Set-Cookie": "_SSID=%s;path=/" % sessions.noise.ssid})

    return {"SYNO.API.Auth.UIConfig": Api("entry.cgi", 1, 1, {"get": (get, False)}, admin=False, session=False)}
