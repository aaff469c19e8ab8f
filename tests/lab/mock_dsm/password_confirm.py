"""SYNO.Core.User.PasswordConfirm (auth): the password re-check DSM asks for before root-owned task edits.

A right password answers `{"SynoConfirmPWToken": ...}` (batonogov's task_scheduler.go, N4S4's
core_sys_info.password_confirm, go-synology methods.go). The token belongs to the session that asked
for it; the .Root task APIs check it (tasks.py). Sources per behaviour in docs/lab-fidelity.md.
"""

from __future__ import annotations

import secrets
import threading

from tests.lab.mock_dsm.api import Api
from tests.lab.mock_dsm.errors import ApiError
from tests.lab.mock_dsm.params import required, text

# DSM's code for a wrong password here is not public; the lab answers what SYNO.API.Auth answers.
WRONG_PASSWORD = 400


def apis(dsm):
    return {"SYNO.Core.User.PasswordConfirm": Api("entry.cgi", 1, 2, {"auth": (dsm.confirm_tokens.auth, False)},
                                                  admin=False)}


class ConfirmTokens:
    def __init__(self, dsm):
        self.dsm = dsm
        self._lock = threading.Lock()
        self._tokens = {}  # token -> sid of the session that confirmed its password

    def reset(self):
        with self._lock:
            self._tokens.clear()

    def auth(self, request):
        sid, session = self.dsm.sessions.lookup(request)
        password = text(required(request, "password"), "password")
        if self.dsm.state.data["users"][session["account"]]["password"] != password:
            raise ApiError(WRONG_PASSWORD)
        token = secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = sid
        return {"SynoConfirmPWToken": token}

    def check(self, request):
        """114 without a token (lost parameter), 105 for one this session did not get (lab's choice:
        DSM's codes for these are not public)."""
        token = request.param("SynoConfirmPWToken")
        if not token:
            raise ApiError(114)
        sid, _session = self.dsm.sessions.lookup(request)
        with self._lock:
            if self._tokens.get(text(token)) != sid:
                raise ApiError(105)
