"""The mock DSM's router: API discovery, the JSON envelope, permissions and SynoToken checks."""

from __future__ import annotations

from tests.lab.common.http import Response, compact_json
from tests.lab.mock_dsm.auth import Sessions
from tests.lab.mock_dsm.certificates import Certificates
from tests.lab.mock_dsm.errors import ApiError


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
        }

    # -- lab hooks -----------------------------------------------------------
    def lab_state(self):
        data = self.state.snapshot()
        data["active_sessions"] = len(self.sessions._sessions)
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
