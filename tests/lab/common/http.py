"""HTTP plumbing shared by the lab's mocks: parsing, listeners, request log, faults, control API.

A mock is a `MockApp` (common/app.py). This module serves it on HTTP and HTTPS (loopback only), records every
API request, and offers `/_lab/*` endpoints that tests use to inject faults and read state. Control requests are
not logged.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import struct
import threading
import time
import urllib.parse
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.lab.common.tls import ContextCache


class Request:
    def __init__(self, verb, path, query, form, files, headers, client, raw_body=b""):
        self.raw_body = raw_body
        self.verb = verb
        self.path = path
        self.query = query
        self.form = form
        self.files = files
        self.headers = headers
        self.client = client

    def param(self, name, default=None):
        """A parameter from the query string or the form body (DSM reads both)."""
        if name in self.form:
            return self.form[name]
        return self.query.get(name, default)

    def cookie(self, name):
        for part in self.headers.get("Cookie", "").split(";"):
            key, separator, value = part.strip().partition("=")
            if separator and key == name:
                return value
        return None


class Response:
    def __init__(self, status=200, body=b"", content_type="application/json", headers=None):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}


def compact_json(obj):
    """DSM and friends answer compact JSON with sorted keys (acme.sh parses it with sed)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode("utf-8")


def parse_body(content_type, body):
    """-> (form fields, files {name: (filename, bytes)}) for urlencoded or multipart bodies."""
    if not body:
        return {}, {}
    if content_type.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
        )
        form, files = {}, {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename() is not None:
                files[name] = (part.get_filename(), payload)
            else:
                form[name] = payload.decode("utf-8")
        return form, files
    if content_type.startswith("application/x-www-form-urlencoded"):
        pairs = urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        return dict(pairs), {}
    return {}, {}


class Faults:
    """Fault injection: fail N matching calls with an API error or an HTTP status; add latency.

    A rule (`fail_next` or `http_error_next`) matches calls by `api` and `method` (either left out: any). It lets
    its first `skip` matching calls through (default 0), then fails the next `count` (default 1), so a test can
    fail the n-th call of one API and method (the second of two creates: `skip: 1`). Each rule counts the
    matching calls it sees on its own; a call failed by one rule is not seen by the rules after it."""

    def __init__(self):
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        with self._lock:
            self.rules = []
            self.latency = 0.0

    @staticmethod
    def _rule(kind, spec):
        if not isinstance(spec, dict):
            raise ValueError("%s: an object with api, method, skip, count" % kind)
        rule = dict(spec, kind=kind)
        for field, default in (("count", 1), ("skip", 0)):
            value = rule.setdefault(field, default)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError("%s.%s: a whole number, 0 or more (got %r)" % (kind, field, value))
        return rule

    def configure(self, spec):
        """Add the rules of one /_lab/faults request; a malformed rule is refused (ValueError) and none added."""
        rules = [self._rule(kind, spec[kind]) for kind in ("fail_next", "http_error_next") if kind in spec]
        with self._lock:
            if "latency_ms" in spec:
                self.latency = float(spec["latency_ms"]) / 1000.0
            self.rules.extend(rules)

    def take(self, api, method):
        """The fault to apply to this call, if any (consumes one skip or one count of each rule it reaches)."""
        with self._lock:
            for rule in self.rules:
                if rule.get("api") not in (None, api) or rule.get("method") not in (None, method):
                    continue
                if rule["count"] <= 0:
                    continue
                if rule["skip"] > 0:
                    rule["skip"] -= 1
                    continue
                rule["count"] -= 1
                return dict(rule)
        return None


class RequestLog:
    """One JSON line per API request, in memory and in <dir>/requests.jsonl. Never holds secrets."""

    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()
        self.entries = []
        # Kept open, line-buffered: each entry is on disk when add() returns, without an open and close per
        # request (which was a seventh of the edge's time serving many probes at once).
        self._out = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 - open for the lab's lifetime

    def add(self, entry):
        entry = dict(entry, t=round(time.time(), 3))
        line = json.dumps(entry, sort_keys=True) + "\n"
        with self._lock:
            self.entries.append(entry)
            self._out.write(line)

    def clear(self):
        with self._lock:
            self.entries = []
            self._out.seek(0)
            self._out.truncate()


def _handler_for(lab):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "nginx"
        sys_version = ""

        def log_message(self, fmt, *args):  # the request log is the record; keep stderr quiet
            pass

        def version_string(self):  # a mock may answer as its real server does (the router: miniupnpd)
            return getattr(lab.app, "server_header", "nginx")

        def _serve(self, verb):
            split = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True))
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if split.path.startswith("/_lab/"):
                response = lab.control(verb, split.path, body)
            elif not lab.app.admits(self.server.server_address[1], self.client_address):
                # Refused by the mock (its firewall): no answer, the connection is reset.
                self.close_connection = True
                reset(self.connection)
                return
            else:
                # What the listener answers before the app sees the request (DSM's HTTP-to-HTTPS redirect).
                response = lab.app.front_response(self.server.server_address[1], self.path, self.headers)
                if response is None:
                    form, files = parse_body(self.headers.get("Content-Type", ""), body)
                    request = Request(
                        verb, split.path, query, form, files, self.headers, self.client_address[0], raw_body=body
                    )
                    response = lab.dispatch(request)
                if getattr(response, "drop", False):
                    # The server went away before answering (a web server restarting): no answer, a reset.
                    self.close_connection = True
                    reset(self.connection)
                    return
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            headers = dict(lab.app.listener_headers(self.server.server_address[1]), **response.headers)
            for key, value in headers.items():
                # a list sends the header once per value (several Set-Cookie headers in one answer)
                for one in value if isinstance(value, (list, tuple)) else (value,):
                    self.send_header(key, one)
            self.end_headers()
            self.wfile.write(response.body)

        def do_GET(self):
            self._serve("GET")

        def do_POST(self):
            self._serve("POST")

        def do_PATCH(self):
            self._serve("PATCH")

        def do_PUT(self):
            self._serve("PUT")

        def do_DELETE(self):
            self._serve("DELETE")

    return Handler


def reset(sock):
    """Close a connection with an RST and no answer (SO_LINGER 0), as a rejecting firewall would."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        sock.close()
    except OSError:
        pass


class LabServer(ThreadingHTTPServer):
    """Every HTTP(S) listener of the lab (the mocks' and the Cloudflare edge's): a thread per connection, and
    TCP_NODELAY on each accepted socket, as nginx (in front of DSM, and Cloudflare's edge) sends by default
    (`tcp_nodelay on`). With Nagle's algorithm on, an answer written in two sends (headers, then body) waits for
    the client's delayed ACK, ~40 ms per kept-alive request, which no real server makes it do. The listen
    backlog is nginx's default (511 on Linux), not socketserver's 5: with 5, a client opening several connections
    at once (tls_probe_info's server_names) has SYNs dropped and waits a second for each retransmission."""

    daemon_threads = True
    request_queue_size = 511

    def get_request(self):
        sock, address = super().get_request()
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock, address


class _Server(LabServer):
    """Admission and the TLS handshake happen in the connection's own thread, not in accept()."""

    def __init__(self, address, handler, lab, tls_context):
        self.lab = lab
        self.tls_context = tls_context
        super().__init__(address, handler)

    def finish_request(self, request, client_address):
        if self.tls_context is None:
            super().finish_request(request, client_address)
            return
        if not self.lab.app.admits(self.server_address[1], client_address):
            reset(request)
            return
        try:
            request.settimeout(30)  # a client that never finishes the handshake does not hold a thread
            tls = self.tls_context.wrap_socket(request, server_side=True)
            tls.settimeout(None)
        except (ssl.SSLError, OSError):
            return  # the client gave up or does not trust us: nothing to answer
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass


class Lab:
    """Serves one mock app on HTTP and/or HTTPS listeners, with the shared log and faults."""

    def __init__(self, app, directory):
        self.app = app
        self.directory = directory
        self.faults = Faults()
        self.log = RequestLog(os.path.join(directory, "requests.jsonl"))
        self.servers = []
        self._on_shutdown = []

    def on_shutdown(self, callback):
        """Something else the mock runs (another listener) to stop with it."""
        self._on_shutdown.append(callback)

    def dispatch(self, request):
        api, method, extra = self.app.describe_call(request)
        fault = self.faults.take(api, method)
        if self.faults.latency:
            time.sleep(self.faults.latency)
        if fault and fault["kind"] == "http_error_next":
            response = self.app.http_error_response(fault)
        elif fault:
            response = self.app.fault_response(fault)
        else:
            response = self.app.handle(request)
        self.log.add(
            dict(
                extra,
                http=request.verb,
                path=request.path,
                api=api,
                method=method,
                status=response.status,
                outcome=getattr(response, "outcome", None),
                fault=fault["kind"] if fault else None,
            )
        )
        return response

    def control(self, verb, path, body):
        if path == "/_lab/faults" and verb == "POST":
            spec = json.loads(body or b"{}")
            try:
                self.faults.configure(spec)
            except ValueError as exc:
                return Response(400, compact_json({"error": str(exc)}))
            if spec.get("expire_sessions"):
                self.app.expire_sessions()
            return Response(body=compact_json({"ok": True}))
        if path == "/_lab/config" and verb == "POST":
            try:
                self.app.lab_configure(json.loads(body or b"{}"))
            except ValueError as exc:
                return Response(400, compact_json({"error": str(exc)}))
            return Response(body=compact_json({"ok": True}))
        if path == "/_lab/state":
            return Response(body=compact_json(self.app.lab_state()))
        if path == "/_lab/log":
            if verb == "POST":
                self.log.clear()
            return Response(body=compact_json(self.log.entries))
        if path == "/_lab/reset" and verb == "POST":
            self.faults.reset()
            self.log.clear()
            self.app.lab_reset()
            return Response(body=compact_json({"ok": True}))
        return Response(404, compact_json({"error": "unknown control endpoint"}))

    def listen(self, host, port, tls=None):
        """Start a listener (see serve()); returns the bound port."""
        return self.serve(host, port, tls).server_address[1]

    def stop(self, server):
        """Stop one listener started by serve(): it no longer accepts connections."""
        server.shutdown()
        server.server_close()
        self.servers = [s for s in self.servers if s is not server]

    def serve(self, host, port, tls=None):
        """Start a listener; tls=(cert_path, key_path) for HTTPS. Returns the server.

        With HTTPS, the app's `tls_identity()` may choose another certificate for each handshake, and
        `admits()` is asked before the handshake: a refused connection is reset before TLS starts.
        Every request that is not a /_lab/ control call is checked again (plain HTTP can only be
        checked once the path is known, and a connection admitted earlier is cut too)."""
        server = _Server((host, port), _handler_for(self), self, self._tls_context(tls) if tls else None)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.servers.append(server)
        return server

    def _tls_context(self, tls):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*tls)
        cache = ContextCache(os.path.join(self.directory, "tls-identities"))

        def choose(ssl_object, _server_name, _context):
            # OpenSSL calls this for every ClientHello, with or without SNI.
            identity = self.app.tls_identity()
            if identity is not None:
                ssl_object.context = cache.context_for(*identity)

        context.sni_callback = choose
        return context

    def shutdown(self):
        for server in self.servers:
            server.shutdown()
            server.server_close()
        for callback in self._on_shutdown:
            callback()
