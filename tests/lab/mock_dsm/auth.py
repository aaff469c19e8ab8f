"""SYNO.API.Auth: login (password, 2FA by TOTP or device token), logout, sessions, SynoToken."""

from __future__ import annotations

import secrets
import threading

import pyotp

from tests.lab.mock_dsm.api import Api, envelope_ok
from tests.lab.mock_dsm.errors import ApiError
from tests.lab.mock_dsm.listeners import two_factor_setup_required


def apis(dsm):
    """SYNO.API.Auth, on entry.cgi (DSM 7) and, for older clients, auth.cgi (see app.py)."""
    sessions = dsm.sessions
    methods = {"login": (sessions.login, False), "logout": (sessions.logout, False)}
    return {"SYNO.API.Auth": Api("entry.cgi", 1, 7, methods, admin=False, session=False)}


class Sessions:
    def __init__(self, state):
        self.state = state
        self._lock = threading.Lock()
        self._sessions = {}   # sid -> {"account", "synotoken"}
        self._used_codes = {}  # account -> last OTP accepted (DSM refuses a replayed code)

    def expire_all(self):
        with self._lock:
            self._sessions.clear()

    def reset(self):
        with self._lock:
            self._sessions.clear()
            self._used_codes.clear()

    def lookup(self, request):
        sid = request.param("_sid") or request.cookie("id")
        with self._lock:
            session = self._sessions.get(sid) if sid else None
        if session is None:
            raise ApiError(119)
        return sid, session

    @staticmethod
    def check_token(request, session):
        """A session logged in with enable_syno_token=yes sends its token on every request (header
        X-SYNO-TOKEN, or SynoToken in the query or form): DSM answers 103 without it (batonogov's
        provider; PM's DSM 7.3.2 capture) and 119 for a wrong one (PM). Sessions without a token are
        answered as before, as py-synologydsm-api (which logs in without one) shows."""
        if session["synotoken"] is None:
            return
        token = request.headers.get("X-SYNO-TOKEN") or request.param("SynoToken")
        if not token:
            raise ApiError(103)
        if token != session["synotoken"]:
            raise ApiError(119)

    def login(self, request):
        version = request.version
        account = request.param("account")
        password = request.param("passwd")
        if not account or password is None:
            raise ApiError(101)
        with self.state.lock:
            user = self.state.data["users"].get(account)
            if user is None or user["password"] != password:
                raise ApiError(400)
            if user["disabled"]:
                raise ApiError(401)
            if two_factor_setup_required(self.state.data, user):
                raise ApiError(406)  # SYNO.Core.OTP.EnforcePolicy covers this account, which has no 2FA
            data = {}
            if user.get("otp_secret"):
                data.update(self._second_factor(request, account, user, version))
        sid = secrets.token_urlsafe(36)
        synotoken = secrets.token_urlsafe(12) if request.param("enable_syno_token") == "yes" else None
        with self._lock:
            self._sessions[sid] = {"account": account, "synotoken": synotoken}
        data.update(sid=sid, is_portal_port=False, account=account)
        if synotoken:
            data["synotoken"] = synotoken
        headers = {"Set-Cookie": "id=%s;path=/;HttpOnly" % sid} if request.param("format") == "cookie" else {}
        return envelope_ok(data, headers)

    def _second_factor(self, request, account, user, version):
        device_id = request.param("device_id")
        if device_id and any(t["id"] == device_id for t in user["device_tokens"]):
            return {}
        code = request.param("otp_code")
        if not code:
            raise ApiError(403)
        if not pyotp.TOTP(user["otp_secret"]).verify(code, valid_window=1) or self._used_codes.get(account) == code:
            raise ApiError(404)
        self._used_codes[account] = code
        if request.param("enable_device_token") != "yes":
            return {}
        token = secrets.token_urlsafe(32)
        user["device_tokens"].append({"id": token, "name": request.param("device_name", "")})
        self.state.save()
        # DSM names the new device token `device_id` from Auth v7 on, `did` before.
        return {"device_id": token} if version > 6 else {"did": token}

    def logout(self, request):
        sid = request.param("_sid") or request.cookie("id")
        with self._lock:
            self._sessions.pop(sid, None)
        return {}

    def active(self):
        """How many sessions are open (tests check that tasks log out)."""
        with self._lock:
            return len(self._sessions)
