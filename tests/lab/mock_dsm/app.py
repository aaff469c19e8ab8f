"""The mock DSM's router: API discovery, the JSON envelope, sessions, permissions and SynoToken checks.

Each API family lives in its own file and declares its APIs with `apis(dsm) -> {name: Api}`; this
file only routes a request to the method of the API it names.
"""

from __future__ import annotations

import ipaddress
import json
import os

from tests.lab.common.app import MockApp
from tests.lab.common.http import Response
from tests.lab.common.state import JsonState
from tests.lab.mock_dsm import (
    auth,
    certificates,
    ddns,
    firewall,
    letsencrypt,
    listeners,
    login_ui,
    nginx_sync,
    password_confirm,
    quickconnect,
    reverse_proxy,
    security,
    seed,
    system,
    tasks,
    terminal,
    utilization,
    web,
)
from tests.lab.mock_dsm.api import Api, envelope_error, envelope_ok
from tests.lab.mock_dsm.errors import ApiError
from tests.lab.mock_dsm.params import invalid, json_value, required

FAMILIES = (
    auth,
    login_ui,
    certificates,
    reverse_proxy,
    firewall,
    security,
    system,
    utilization,
    password_confirm,
    tasks,
    terminal,
    ddns,
    web,
    letsencrypt,
    quickconnect,
)
# APIs that go-synology's SYNO.API.Info dump lists without "requestFormat": "JSON".
PLAIN_FORMAT = ("SYNO.API.Auth",)
CGIS = ("entry.cgi", "query.cgi", "auth.cgi")


class MockDsm(MockApp):
    # task_root: the sandbox task scripts run in (LAB_ROOT); task_timeout: seconds before a script is killed.
    # controller_address / controller_adapter: where the firewall sees the controller come from (every
    # lab connection is loopback); nginx_root / nginx_layout: the DSM-shaped nginx tree (dsm_nginx) that
    # reverse-proxy edits regenerate, with DSM 7's or DSM 6's file layout.
    default_config = {
        "task_root": None,
        "task_timeout": None,
        "controller_address": "127.0.0.1",
        "controller_adapter": "eth0",
        "nginx_root": None,
        "nginx_layout": "dsm7",
        # What DSM's external-address lookup (SYNO.Core.DDNS.ExtIP) finds; None: no address of that family.
        "ddns_external_ipv4": "203.0.113.7",
        "ddns_external_ipv6": None,
        # A set of SYNO.Core.Web.DSM that moves a port: "answer" (the answer, then the move) or "drop" (the
        # connection is cut unanswered while the web server restarts); web.py.
        "web_set_answer": "answer",
        # The QuickConnect package (quickconnect.py): installed, and the name its set takes for on/off.
        "quickconnect_installed": True,
        "quickconnect_enable_field": "enabled",
        # How the seed's services use the factory certificate (listeners.py; sources disagree): "explicit", each
        # bound to it by name, so a new default moves none of them; "implicit", none bound, so every one follows
        # the default certificate until Certificate.Service binds it.
        "service_bindings": "explicit",
    }
    # Lab actions, not settings: run the boot-up / shutdown tasks, or the due scheduled tasks (tasks.py).
    ACTIONS = ("boot", "shutdown", "tick")

    def __init__(self, state_path=None, factory_certificate=None):
        super().__init__(JsonState(lambda: seed.initial_state(factory_certificate), state_path))
        self.sessions = auth.Sessions(self.state)
        self.confirm_tokens = password_confirm.ConfirmTokens(self)
        self.scheduler = tasks.Scheduler(self)
        self.listener_ports = set()  # the API listeners' ports (server.py), which the "dsm" service means
        self.ssh = None  # the SSH stand-in (server.py), which follows SYNO.Core.Terminal
        self.web = None  # DSM's web server (server.py, listeners.WebListeners), which follows SYNO.Core.Web.DSM
        # What a successful write to an API changes beyond its state: DSM regenerates nginx after a
        # reverse-proxy edit and starts or stops sshd after a Terminal change.
        self.after_write = {nginx_sync.API: [nginx_sync.regenerate], terminal.API: [MockDsm.sync_ssh]}
        # DSM 7 lists SYNO.API.Info under entry.cgi and still answers it on query.cgi, where clients
        # bootstrap (go-synology's dump; acme.sh, py-synologydsm-api and synology-api use query.cgi).
        self.apis = {
            "SYNO.API.Info": Api("entry.cgi", 1, 1, {"query": (self._query, False)}, admin=False, session=False),
            "SYNO.Entry.Request": Api("entry.cgi", 1, 2, {"request": (self._compound, False)}),
        }
        for family in FAMILIES:
            self.apis.update(family.apis(self))
        for name in PLAIN_FORMAT:
            if name in self.apis:
                self.apis[name].request_format = False

    # -- lab hooks -----------------------------------------------------------
    def lab_state(self):
        data = self.state.snapshot()
        data["active_sessions"] = self.sessions.active()
        data["noise"] = self.sessions.noise.snapshot()  # DSM 7 login handshakes and X-SYNO-HASH checks
        return data

    def lab_reset(self):
        super().lab_reset()
        self.sessions.reset()
        self.confirm_tokens.reset()
        self.scheduler.reset()
        self.sync_ssh()
        self.web_home()

    def lab_configure(self, spec):
        """Settings, plus the actions `{"boot": true}`, `{"shutdown": true}` and `{"tick": true}` (or
        `{"tick": "YYYY-MM-DD HH:MM"}`: only the tasks due in that minute), which run task scripts
        before the control call answers."""
        spec = dict(spec)
        actions = {key: spec.pop(key) for key in self.ACTIONS if key in spec}
        if spec.get("web_set_answer", "answer") not in ("answer", "drop"):
            raise ValueError("web_set_answer must be answer or drop")
        if spec.get("nginx_layout", "dsm7") not in ("dsm7", "dsm6"):
            raise ValueError("nginx_layout must be dsm7 or dsm6")
        if spec.get("quickconnect_enable_field", "enabled") not in ("enabled", "enable"):
            raise ValueError("quickconnect_enable_field must be enabled or enable")
        if spec.get("service_bindings", "explicit") not in ("explicit", "implicit"):
            raise ValueError("service_bindings must be explicit or implicit")
        for key in ("controller_address", "ddns_external_ipv4", "ddns_external_ipv6"):
            if key in spec and (spec[key] is not None or key == "controller_address"):
                try:
                    ipaddress.ip_address(spec[key])
                except ValueError as exc:
                    raise ValueError("%s must be an IP address" % key) from exc
        root = spec.get("nginx_root")
        if root and not os.path.exists(os.path.join(root, "lab.json")):
            raise ValueError("nginx_root %s is not a DSM-shaped tree (python -m tests.lab.dsm_nginx build)" % root)
        super().lab_configure(spec)
        if spec.get("service_bindings") == "implicit":
            with self.state.lock:
                listeners.unbind_default_users(self.state.data)
                self.state.save()
        if "nginx_root" in spec or "nginx_layout" in spec:
            nginx_sync.regenerate(self)  # the tree now shows this DSM's entries
        if actions.get("shutdown"):
            self.scheduler.boot("shutdown")
        if actions.get("boot"):
            self.scheduler.boot("bootup")
        if actions.get("tick"):
            self.scheduler.tick(actions["tick"] if isinstance(actions["tick"], str) else None)

    # -- what the listeners do ------------------------------------------------------
    def tls_identity(self):
        with self.state.lock:
            return listeners.served_certificate(self.state.data)

    def admits(self, port, peer):
        if peer is not None and self.web is not None and self.web.scheme_of(port) is None:
            return False  # a listener DSM's web server left (a port move): nothing answers there
        return self.firewall_verdict(port)[0] == "allow"

    def firewall_verdict(self, port):
        ports = set(self.web.ports().values()) if self.web is not None else self.listener_ports
        services = {"dsm": ports | {5000, 5001}, "ssh": {self.ssh_port()}}
        with self.state.lock:
            return listeners.firewall_verdict(self.state.data, self.config, port, services)

    def web_home(self):
        """DSM's web settings name the ports the lab's listeners were started on, and DSM serves there."""
        if self.web is None:
            return
        self.web.go_home()
        with self.state.lock:
            ports = self.web.ports()
            current = web.settings(self.state.data)
            if (current["http_port"], current["https_port"]) != (ports["http"], ports["https"]):
                current.update(http_port=ports["http"], https_port=ports["https"])
                self.state.save()

    def front_response(self, port, target, headers):
        if self.web is None or self.web.scheme_of(port) != "http":
            return None
        with self.state.lock:
            location = listeners.front_response(
                web.settings(self.state.data), self.web.ports()["https"], headers.get("Host"), target
            )
        if location is None:
            return None
        return Response(301, b"<html>301 Moved Permanently</html>", "text/html", headers={"Location": location})

    def listener_headers(self, port):
        if self.web is None or self.web.scheme_of(port) != "https":
            return {}
        with self.state.lock:
            hsts = web.settings(self.state.data)["enable_hsts"]
        return {"Strict-Transport-Security": listeners.HSTS_HEADER} if hsts else {}

    @staticmethod
    def dropped_answer():
        """No answer at all: the connection is cut (the web server restarting under the request)."""
        response = Response(500, b"")
        response.drop = True
        response.outcome = "dropped"
        return response

    def ssh_port(self):
        """The port DSM's sshd listens on, as the firewall sees it (the stand-in's own port is the lab's)."""
        return terminal.settings(self.state.data)["ssh_port"]

    def sync_ssh(self):
        if self.ssh is not None:
            with self.state.lock:
                enabled = terminal.settings(self.state.data)["enable_ssh"]
            self.ssh.set_enabled(enabled)

    def expire_sessions(self):
        self.sessions.expire_all()

    def fault_response(self, fault):
        return envelope_error(int(fault.get("code", 100)))

    def describe_call(self, request):
        # Where the session came from and which parameters were in the URL (names only: the log holds no
        # secret), so tests can check that a client keeps secrets out of URLs, which DSM's nginx logs.
        extra = {
            "version": request.param("version"),
            "query_keys": sorted(request.query),
            "session_from": session_source(request),
        }
        if request.param("method") == "login":
            extra["account"] = request.param("account")
        return api_name(request), request.param("method"), extra

    # -- routing -------------------------------------------------------------
    def handle(self, request):
        cgi = _cgi(request.path)
        if cgi is None:
            return Response(404, b"<html>404 Not Found</html>", "text/html")
        try:
            return self._call(request, cgi)
        except ApiError as exc:
            return envelope_error(exc.code, exc.errors)

    def _call(self, request, cgi):
        name = api_name(request)
        method = request.param("method")
        raw_version = request.param("version")
        # 101 is DSM's "no parameter of API, method or version" (N4S4's error table).
        if not name or not method or raw_version is None:
            raise ApiError(101)
        api = self.apis.get(name)
        # DSM still serves the pre-7 auth.cgi path for SYNO.API.Auth, which older clients use, and
        # SYNO.API.Info on query.cgi.
        legacy = (cgi == "auth.cgi" and name == "SYNO.API.Auth") or (cgi == "query.cgi" and name == "SYNO.API.Info")
        if api is None or not api.present() or (cgi != api.path and not legacy):
            raise ApiError(102)
        try:
            request.version = int(raw_version)
        except ValueError:
            raise ApiError(104) from None
        if not api.min_version <= request.version <= api.max_version:
            raise ApiError(104)
        if method not in api.methods:
            raise ApiError(103)
        handler, writes = api.methods[method]
        if api.session:
            sid, session = self.sessions.lookup(request)
            self.sessions.check_request_hash(request, session)
            # A session that has a SynoToken needs it on every request, reads included.
            self.sessions.check_token(request, session)
            if api.admin and not self.state.data["users"][session["account"]]["admin"]:
                raise ApiError(105)
        with self.state.lock:
            result = handler(request)
        if writes:
            for effect in self.after_write.get(name, ()):
                effect(self)
        if isinstance(result, Response):
            return result
        if isinstance(result, bytes):
            return Response(body=result, content_type="application/zip")
        return envelope_ok(result)

    def _compound(self, request):
        """SYNO.Entry.Request: several calls in one HTTP request; each answers like the call alone would."""
        calls = json_value(required(request, "compound"), "compound")
        if not isinstance(calls, list):
            raise invalid("compound")
        stop = request.param("stop_when_error") == "true"
        results, failed = [], False
        for call in calls:
            sub_request = SubRequest(request, call)
            try:
                if sub_request.param("api") == "SYNO.Entry.Request":
                    raise invalid("api")  # no nesting (lab's choice: DSM's answer is not public)
                response = self._call(sub_request, "entry.cgi")
                payload = json.loads(response.body)
            except ApiError as exc:
                payload = {"error": exc.body(), "success": False}
            except ValueError:  # a binary answer (export) cannot travel in a compound reply
                payload = {"error": {"code": 101}, "success": False}
            entry = {
                "api": call.get("api"),
                "method": call.get("method"),
                "version": call.get("version"),
                "success": payload["success"],
            }
            entry.update({"data": payload.get("data", {})} if payload["success"] else {"error": payload["error"]})
            results.append(entry)
            failed = failed or not payload["success"]
            if failed and stop:
                break
        return {"has_fail": failed, "result": results}

    def _query(self, request):
        wanted = request.param("query", "ALL")
        if wanted.upper() == "ALL":
            return {name: api.info() for name, api in self.apis.items() if api.present()}
        names = [n.strip() for n in wanted.split(",")]
        return {n: self.apis[n].info() for n in names if n in self.apis and self.apis[n].present()}


def _cgi(path):
    """entry.cgi / query.cgi / auth.cgi of `/webapi/<cgi>` or of a path-style `/webapi/entry.cgi/<API>`."""
    if not path.startswith("/webapi/"):
        return None
    parts = path[len("/webapi/") :].split("/")
    if parts[0] not in CGIS or len(parts) > 2 or (len(parts) == 2 and (parts[0] != "entry.cgi" or not parts[1])):
        return None
    return parts[0]


def session_source(request):
    """`query`, `form` or `cookie`: where DSM found the session of this request (None: it carries none)."""
    if request.form.get("_sid"):
        return "form"
    if request.query.get("_sid"):
        return "query"
    return "cookie" if request.cookie("id") else None


def api_name(request):
    """The `api` parameter, else the API named in a path-style URL (`entry.cgi/SYNO.Core.X`), as
    N4S4/synology-api uploads and phoeluga's operator send it. The parameter wins when both are given."""
    name = request.param("api")
    if name:
        return name
    parts = request.path.split("/")
    return parts[-1] if len(parts) == 4 and parts[2] == "entry.cgi" else None


class SubRequest:
    """One call of a compound request: its own parameters, the outer request's session and headers."""

    def __init__(self, outer, call):
        self._outer = outer
        self._params = {
            k: v
            if isinstance(v, str)
            else json.dumps(v)
            if isinstance(v, (dict, list))
            else str(v).lower()
            if isinstance(v, bool)
            else str(v)
            for k, v in call.items()
        }
        self.headers = outer.headers
        self.query = outer.query
        self.files = {}
        self.verb = outer.verb
        self.path = outer.path
        self.client = outer.client

    def param(self, name, default=None):
        if name in self._params:
            return self._params[name]
        if name in ("_sid", "SynoToken"):
            return self._outer.param(name, default)
        return default

    def cookie(self, name):
        return self._outer.cookie(name)
