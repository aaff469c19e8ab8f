"""The mock DSM's router: API discovery, the JSON envelope, permissions and SynoToken checks."""

from __future__ import annotations

import json

from tests.lab.common.http import Response, compact_json
from tests.lab.mock_dsm.auth import Sessions
from tests.lab.mock_dsm.certificates import Certificates
from tests.lab.mock_dsm.errors import ApiError
from tests.lab.mock_dsm.settings import Settings


class Api:
    """One API as SYNO.API.Info lists it, with its methods: name -> (handler, writes?)."""

    def __init__(self, path, min_version, max_version, methods, admin=True, session=True):
        self.path = path
        self.min_version = min_version
        self.max_version = max_version
        self.methods = methods
        self.admin = admin
        self.session = session

    def info(self):
        return {"maxVersion": self.max_version, "minVersion": self.min_version, "path": self.path}


class MockDsm:
    def __init__(self, state):
        self.state = state
        self.sessions = Sessions(state)
        certs = Certificates(state)
        self.apis = {
            "SYNO.API.Info": Api("query.cgi", 1, 1, {"query": (self._query, False)}, admin=False, session=False),
            "SYNO.API.Auth": Api("entry.cgi", 1, 7, {"login": (None, False), "logout": (None, False)},
                                 admin=False, session=False),
            "SYNO.DSM.Info": Api("entry.cgi", 1, 2, {"getinfo": (self._dsm_info, False)}, admin=False),
            "SYNO.Core.Certificate": Api("entry.cgi", 1, 1, {
                "import": (certs.import_, True), "export": (certs.export, False)}),
            "SYNO.Core.Certificate.CRT": Api("entry.cgi", 1, 1, {
                "list": (certs.list, False), "set": (certs.set, True), "delete": (certs.delete, True)}),
            "SYNO.Core.Certificate.Service": Api("entry.cgi", 1, 1, {"set": (certs.bind, True)}),
            "SYNO.Entry.Request": Api("entry.cgi", 1, 2, {"request": (self._compound, False)}),
        }
        self._register_settings(Settings(state))

    def _register_settings(self, s):
        plain = {"autoblock": {"enable": bool, "attempts": int, "within_mins": int, "expire_day": int},
                 "smartblock": {"enabled": bool, "untrust_try": int, "untrust_minute": int, "untrust_lock": int,
                                "trust_try": int, "trust_minute": int, "trust_lock": int}}
        self.apis.update({
            "SYNO.Core.AppPortal.ReverseProxy": Api("entry.cgi", 1, 1, {
                "list": (s.rp_list, False), "create": (s.rp_create, True), "update": (s.rp_update, True),
                "delete": (s.rp_delete, True)}),
            "SYNO.Core.AppPortal.AccessControl": Api("entry.cgi", 1, 1, {"list": (s.acl_list, False)}),
            "SYNO.Core.Security.Firewall": Api("entry.cgi", 1, 1, {"get": (s.fw_get, False), "set": (s.fw_set, True)}),
            "SYNO.Core.Security.Firewall.Profile": Api("entry.cgi", 1, 1, {
                "get": (s.profile_get, False), "set": (s.profile_set, True)}),
            "SYNO.Core.Security.Firewall.Profile.Apply": Api("entry.cgi", 1, 1, {
                "start": (s.apply_start, True), "status": (s.apply_status, False)}),
            "SYNO.Core.Security.TrustedProxy": Api("entry.cgi", 1, 1, {
                "get": (s.proxies_get, False), "set": (s.proxies_set, True)}),
            "SYNO.Core.Security.DoS": Api("entry.cgi", 1, 2, {"get": (s.dos_get, False), "set": (s.dos_set, True)}),
            "SYNO.Core.Security.AutoBlock": Api("entry.cgi", 1, 1, {
                "get": (s._plain_get("autoblock"), False), "set": (s._plain_set("autoblock", plain["autoblock"]), True)}),
            "SYNO.Core.Security.AutoBlock.Rules": Api("entry.cgi", 1, 1, {
                "list": (s.autoblock_rules_list, False), "create": (s.autoblock_rules_create, True),
                "delete": (s.autoblock_rules_delete, True)}),
            "SYNO.Core.SmartBlock": Api("entry.cgi", 1, 1, {
                "get": (s._plain_get("smartblock"), False),
                "set": (s._plain_set("smartblock", plain["smartblock"]), True)}),
            "SYNO.Core.OTP.EnforcePolicy": Api("entry.cgi", 1, 1, {"get": (s.otp_get, False), "set": (s.otp_set, True)}),
            "SYNO.Core.User": Api("entry.cgi", 1, 1, {"list": (s.user_list, False), "set": (s.user_set, True)}),
            "SYNO.Core.Upgrade.Setting": Api("entry.cgi", 1, 2, {
                "get": (s.upgrade_get, False), "set": (s.upgrade_set, True)}),
        })

    # -- lab hooks -----------------------------------------------------------
    def lab_state(self):
        data = self.state.snapshot()
        data["active_sessions"] = self.sessions.active()
        return data

    def lab_reset(self):
        self.state.reset()
        self.sessions.reset()

    @staticmethod
    def lab_configure(spec):
        if spec:
            raise ValueError("the mock DSM has no settings; change its state through its API")

    def expire_sessions(self):
        self.sessions.expire_all()

    @staticmethod
    def fault_response(fault):
        return _envelope_error(int(fault.get("code", 100)))

    @staticmethod
    def describe_call(request):
        extra = {}
        if request.param("method") == "login":
            extra["account"] = request.param("account")
        return request.param("api"), request.param("method"), dict(extra, version=request.param("version"))

    # -- routing -------------------------------------------------------------
    def handle(self, request):
        cgi = request.path.rsplit("/", 1)[-1]
        if not request.path.startswith("/webapi/") or cgi not in ("entry.cgi", "query.cgi", "auth.cgi"):
            return Response(404, b"<html>404 Not Found</html>", "text/html")
        try:
            return self._call(request, cgi)
        except ApiError as exc:
            return _envelope_error(exc.code)

    def _call(self, request, cgi):
        name = request.param("api")
        api = self.apis.get(name)
        # DSM still serves the pre-7 auth.cgi path for SYNO.API.Auth, which older clients use.
        if api is None or (cgi != api.path and not (cgi == "auth.cgi" and name == "SYNO.API.Auth")):
            raise ApiError(102)
        try:
            version = int(request.param("version", ""))
        except ValueError:
            raise ApiError(101)
        if not api.min_version <= version <= api.max_version:
            raise ApiError(104)
        method = request.param("method")
        if method not in api.methods:
            raise ApiError(103)
        if name == "SYNO.API.Auth":
            if method == "login":
                data, headers = self.sessions.login(request, version)
                return _envelope_ok(data, headers)
            return _envelope_ok(self.sessions.logout(request))
        handler, writes = api.methods[method]
        if api.session:
            sid, session = self.sessions.lookup(request)
            if writes:
                self.sessions.check_token(request, session)
            if api.admin and not self.state.data["users"][session["account"]]["admin"]:
                raise ApiError(105)
        result = handler(request)
        if isinstance(result, bytes):
            return Response(body=result, content_type="application/zip")
        return _envelope_ok(result)

    def _compound(self, request):
        """SYNO.Entry.Request: several calls in one HTTP request; each answers like the call alone would."""
        try:
            calls = json.loads(request.param("compound", "[]"))
        except ValueError:
            raise ApiError(101)
        if not isinstance(calls, list):
            raise ApiError(101)
        stop = request.param("stop_when_error") == "true"
        results, failed = [], False
        for call in calls:
            sub_request = SubRequest(request, call)
            try:
                if sub_request.param("api") == "SYNO.Entry.Request":
                    raise ApiError(101)
                response = self._call(sub_request, "entry.cgi")
                payload = json.loads(response.body)
            except ApiError as exc:
                payload = {"error": {"code": exc.code}, "success": False}
            except ValueError:  # a binary answer (export) cannot travel in a compound reply
                payload = {"error": {"code": 101}, "success": False}
            entry = {"api": call.get("api"), "method": call.get("method"), "version": call.get("version"),
                     "success": payload["success"]}
            entry.update({"data": payload.get("data", {})} if payload["success"] else {"error": payload["error"]})
            results.append(entry)
            failed = failed or not payload["success"]
            if failed and stop:
                break
        return {"has_fail": failed, "result": results}

    def _query(self, request):
        wanted = request.param("query", "ALL")
        if wanted.upper() == "ALL":
            return {name: api.info() for name, api in self.apis.items()}
        names = [n.strip() for n in wanted.split(",")]
        return {n: self.apis[n].info() for n in names if n in self.apis}

    def _dsm_info(self, request):
        return dict(self.state.data["dsm_info"])


def _envelope_ok(data, headers=None):
    response = Response(body=compact_json({"data": data, "success": True}), headers=headers or {})
    response.outcome = "ok"
    return response


def _envelope_error(code):
    response = Response(body=compact_json({"error": {"code": code}, "success": False}))
    response.outcome = code
    return response


class SubRequest:
    """One call of a compound request: its own parameters, the outer request's session and headers."""

    def __init__(self, outer, call):
        self._outer = outer
        self._params = {k: v if isinstance(v, str) else json.dumps(v) if isinstance(v, (dict, list))
                        else str(v).lower() if isinstance(v, bool) else str(v) for k, v in call.items()}
        self.headers = outer.headers
        self.query = outer.query
        self.files = {}
        self.verb = outer.verb
        self.path = outer.path

    def param(self, name, default=None):
        if name in self._params:
            return self._params[name]
        if name in ("_sid", "SynoToken"):
            return self._outer.param(name, default)
        return default

    def cookie(self, name):
        return self._outer.cookie(name)
