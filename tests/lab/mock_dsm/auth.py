"""SYNO.API.Auth: login (password, 2FA by TOTP or device token, DSM 7's Noise handshake), logout, sessions,
SynoToken. Sources per behaviour in docs/lab-fidelity.md (## DSM, SYNO.API.Auth rows)."""

from __future__ import annotations

import datetime
import secrets
import threading

import pyotp

from tests.lab.mock_dsm.api import Api, envelope_ok
from tests.lab.mock_dsm.errors import ApiError
from tests.lab.mock_dsm.listeners import two_factor_setup_required
from tests.lab.mock_dsm.noise_login import NoiseLogin
from tests.lab.mock_dsm.params import required

# A device token's `did` cookie lives 30 days (Set-Cookie in mib1185/py-synologydsm-api#13's DSM 7 log).
DID_COOKIE_DAYS = 30


def apis(dsm):
    """SYNO.API.Auth, on entry.cgi (DSM 7) and, for older clients, auth.cgi (see app.py)."""
    sessions = dsm.sessions
    methods = {"login": (sessions.login, False), "logout": (sessions.logout, False)}
    return {"SYNO.API.Auth": Api("entry.cgi", 1, 7, methods, admin=False, session=False)}


class Sessions:
    def __init__(self, state):
        self.state = state
        self._lock = threading.Lock()
        self._sessions = {}  # sid -> {"account", "synotoken", "noise" (the Noise handshake, or None)}
        self._used_codes = {}  # account -> last OTP accepted (DSM refuses a replayed code)
        self.noise = NoiseLogin()  # DSM 7's login-page handshake (UIConfig's _SSID, ik_message, X-SYNO-HASH)

    def expire_all(self):
        with self._lock:
            self._sessions.clear()

    def reset(self):
        with self._lock:
            self._sessions.clear()
            self._used_codes.clear()
        self.noise.reset()

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
        # A login without them: 114, "lost parameters" (lab's choice; DSM's answer is not public).
        account = required(request, "account")
        password = required(request, "passwd")
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
        handshake, ik_reply = self._noise_handshake(request)
        with self._lock:
            self._sessions[sid] = {"account": account, "synotoken": synotoken, "noise": handshake}
        data.update(sid=sid, is_portal_port=False, account=account)
        if synotoken:
            data["synotoken"] = synotoken
        if ik_reply:
            data["ik_message"] = ik_reply
        return envelope_ok(data, self._login_cookies(request, sid, data))

    def _second_factor(self, request, account, user, version):
        device_id = self._device_token(request, version)
        if device_id and any(t["id"] == device_id for t in user["device_tokens"]):
            return {}
        code = request.param("otp_code")
        if not code:
            raise ApiError(403, errors=self._second_factor_challenge())
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

    @staticmethod
    def _device_token(request, version):
        """The remembered device: the `device_id` parameter; the `did` cookie alone only before Auth v7
        (acme.sh's DSM 6 hook sent just the cookie; acme.sh#4329 found DSM 7 wants `device_id` too)."""
        return request.param("device_id") or (request.cookie("did") if version <= 6 else None)

    @staticmethod
    def _second_factor_challenge():
        """`error.errors` of the 403: a fresh login token and the second factors the account has. The lab's
        accounts only have TOTP ("otp"), so the list is the one go-synology's response.go shows; an account with
        Secure SignIn lists authenticator and fido as well (home-assistant/core#54238)."""
        return {"token": secrets.token_urlsafe(24), "types": [{"type": "otp"}]}

    def _noise_handshake(self, request):
        """(handshake state, reply) when the login carries the first Noise message, else (None, None)."""
        ik_message = request.param("ik_message")
        return self.noise.respond(ik_message) if ik_message else (None, None)

    def check_request_hash(self, request, session):
        """Verify (and count) the X-SYNO-HASH of a request in a session that did the Noise handshake."""
        outer = getattr(request, "_outer", request)  # the calls of a compound request share its one header
        if getattr(outer, "syno_hash_checked", False):
            return
        outer.syno_hash_checked = True
        header = request.headers.get("X-SYNO-HASH")
        if header and session.get("noise"):
            self.noise.check(session["noise"], header)

    @staticmethod
    def _login_cookies(request, sid, data):
        """`id` for format=cookie; `did` (30 days) when the login issued a device token."""
        cookies = []
        if request.param("format") == "cookie":
            cookies.append("id=%s;path=/;HttpOnly" % sid)
        device_token = data.get("device_id") or data.get("did")
        if device_token:
            expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=DID_COOKIE_DAYS)
            cookies.append("did=%s;expires=%s;path=/;HttpOnly" % (device_token, _cookie_date(expires)))
        return {"Set-Cookie": cookies} if cookies else {}

    def logout(self, request):
        sid = request.param("_sid") or request.cookie("id")
        with self._lock:
            self._sessions.pop(sid, None)
        return {}

    def active(self):
        """How many sessions are open (tests check that tasks log out)."""
        with self._lock:
            return len(self._sessions)


def _cookie_date(when):
    """`Mon, 10-May-2021 20:22:17 GMT`, the form DSM's did cookie uses (English names, whatever the locale)."""
    day = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[when.weekday()]
    month = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")[when.month - 1]
    return "%s, %02d-%s-%d %s GMT" % (day, when.day, month, when.year, when.strftime("%H:%M:%S"))
