"""The shape every mock has: what the HTTP plumbing (common/http.py) calls, with defaults.

A mock subclasses MockApp, keeps its state in a JsonState (`self.state`), and overrides `handle`
and `describe_call`; the rest has defaults that fit a mock without sessions or settings.
"""

from __future__ import annotations

from tests.lab.common.http import Response


class MockApp:
    #: which lab settings `/_lab/config` accepts, with their defaults (a dict; copied per reset)
    default_config = {}

    def __init__(self, state):
        self.state = state
        self.config = dict(self.default_config)

    # -- serving -------------------------------------------------------------
    def handle(self, request):
        """The mock's answer to one API request."""
        raise NotImplementedError

    def describe_call(self, request):
        """(api, method, extra log fields) of a request, for the request log and fault matching."""
        return request.path, request.verb, {}

    def fault_response(self, fault):
        """The answer to an injected API-level fault (`fail_next`)."""
        return Response(500, b"injected fault", "text/plain")

    def tls_identity(self):
        """(certificate chain PEM, key PEM) to present on the next TLS handshake; None = the listener's own."""
        return None

    def admits(self, port, peer):
        """Whether a connection from `peer` (host, port) to the listener on `port` gets an answer."""
        return True

    def front_response(self, port, target, headers):
        """An answer the listener on `port` gives itself, before the app sees the request (a redirect); None
        lets the request through. `target` is the request's path and query."""
        return None

    def listener_headers(self, port):
        """Headers the listener on `port` adds to every answer (HSTS on an HTTPS listener)."""
        return {}

    def http_error_response(self, fault):
        """The answer to an injected HTTP-level fault (`http_error_next`)."""
        return Response(int(fault.get("status", 502)), b"<html>Bad Gateway</html>", "text/html")

    # -- the lab's control API -------------------------------------------------
    def lab_state(self):
        return self.state.snapshot()

    def lab_reset(self):
        self.state.reset()
        self.config = dict(self.default_config)

    def lab_configure(self, spec):
        unknown = set(spec) - set(self.default_config)
        if unknown:
            raise ValueError("unknown lab settings for %s: %s" % (type(self).__name__, ", ".join(sorted(unknown))))
        self.config.update(spec)

    def expire_sessions(self):
        """Forget every session (mocks without sessions have nothing to do)."""
