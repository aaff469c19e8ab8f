"""The mock Cloudflare API v4: routing, authentication, rate limit and the envelope.

Each resource lives in its own file and declares its routes with `routes(app) -> [(verb, path regex,
handler, writes)]` (writes: True needs credentials that may write, False any, None no auth).
Credentials are an API token or the account's email + Global API key (auth.py). Errors as Cloudflare
sends them (7003 unknown route or object, 10405 wrong method). A configurable rate limit answers 429
with Retry-After.
"""

from __future__ import annotations

import os
import re
import time

from tests.lab.common.app import MockApp
from tests.lab.common.http import Response
from tests.lab.common.state import JsonState
from tests.lab.mock_cloudflare import auth, challenges, dns, ips, origin_ca, seed, settings, tunnels, zones
from tests.lab.mock_cloudflare.envelope import error, ok
from tests.lab.mock_cloudflare.errors import ApiError

RESOURCES = (zones, settings, dns, origin_ca, ips, tunnels)


class MockCloudflare(MockApp):
    # challtestsrv_url: where DNS-01 TXT records are mirrored (challenges.py); None leaves them in the mock.
    # edge_*: the edge (edge.py): public origin "address:port" -> loopback "host:port", the PEM roots it
    # trusts as publicly trusted CAs in Full (strict), and its connect/read timeouts in seconds.
    default_config = {
        "rate_limit": 0,
        "rate_window": 60,
        "bulk_settings": True,
        "challtestsrv_url": None,
        "edge_origins": {},
        "edge_public_roots": [],
        "edge_connect_timeout": 3,
        "edge_read_timeout": 30,
    }

    def __init__(self, directory):
        super().__init__(JsonState(seed.initial_state, os.path.join(directory, "state.json")))
        self.origin_ca = origin_ca.OriginCa(directory)
        self.routes = [route for resource in RESOURCES for route in resource.routes(self)]
        self.hits = []
        # The edge's origin-pull CA, which the static file below serves (set when the edge is made).
        self.origin_pull_ca_path = None

    @property
    def data(self):
        return self.state.data

    def zone(self, zone):
        """The zone object, or Cloudflare's 7003 for an unknown id."""
        if zone not in self.data["zones"]:
            raise ApiError(404, 7003, "Could not route to /zones/%s, perhaps your object identifier is invalid?" % zone)
        return self.data["zones"][zone]

    # -- lab hooks -----------------------------------------------------------
    def lab_reset(self):
        # Take back the challenge records this lab published, so the next test's DNS starts empty too.
        url = self.config.get("challtestsrv_url")
        names = [r["name"] for records in self.data["dns_records"].values() for r in records.values()]
        super().lab_reset()
        self.hits = []
        try:
            challenges.publish(url, [], names)
        except ApiError:
            pass  # challtestsrv already stopped: nothing is left to answer

    def lab_configure(self, spec):
        spec = dict(spec)
        if "ips" in spec:
            with self.state.lock:
                self.data["ips"] = dict(spec.pop("ips"))
                self.state.save()
        origins = spec.get("edge_origins", {})
        if not isinstance(origins, dict) or not all(
            isinstance(v, str) and v.rpartition(":")[2].isdigit() for v in origins.values()
        ):
            raise ValueError('edge_origins: {"public-address:port": "127.0.0.1:port", ...}')
        super().lab_configure(spec)

    def fault_response(self, fault):
        return error(ApiError(int(fault.get("status", 400)), int(fault.get("code", 1000)), "Injected fault"))

    def http_error_response(self, fault):
        status = int(fault.get("status", 502))
        headers = {"Retry-After": str(fault["retry_after"])} if "retry_after" in fault else {}
        if status == 429:
            return error(ApiError(429, 971, "Please wait and consider throttling your request speed"), headers)
        return Response(status, b"<html>Bad gateway</html>", "text/html", headers)

    def describe_call(self, request):
        path = request.path.split("/client/v4", 1)[-1]
        shape = re.sub(r"/[0-9a-f]{32}", "/:id", path)
        shape = re.sub(r"/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "/:id", shape)
        shape = re.sub(r"/certificates/[0-9]+", "/certificates/:id", shape)
        # Query keys (never their values) show which filters a client used, e.g. name.exact.
        return request.verb, shape, {"query": sorted(request.query)} if request.query else {}

    # -- HTTP ----------------------------------------------------------------
    def handle(self, request):
        if request.path == "/static/origin_ca_rsa_root.pem":
            return Response(body=self.origin_ca.root_pem, content_type="application/x-pem-file")
        if request.path == "/ssl/static/authenticated_origin_pull_ca.pem" and self.origin_pull_ca_path:
            with open(self.origin_pull_ca_path, "rb") as handle:
                return Response(body=handle.read(), content_type="application/x-pem-file")
        if not request.path.startswith("/client/v4/"):
            return Response(404, b"not found", "text/plain")
        path = request.path[len("/client/v4") :]
        try:
            for verb, pattern, handler, writes in self.routes:
                match = re.fullmatch(pattern, path)
                if match and verb == request.verb:
                    token = None if writes is None else self._authenticate(request, writes)
                    self._rate_limit()
                    with self.state.lock:
                        response = ok(*handler(request, token=token, **match.groupdict()))
                        if writes:
                            self.state.save()
                        return response
            if any(re.fullmatch(route[1], path) for route in self.routes):
                raise ApiError(405, 10405, "Method not allowed for this endpoint")
            raise ApiError(404, 7003, "Could not route to %s, perhaps your object identifier is invalid?" % path)
        except ApiError as exc:
            return error(exc, {"Retry-After": "1"} if exc.status == 429 else None)

    def _authenticate(self, request, writes):
        return auth.authenticate(self.data, request, writes)

    def _rate_limit(self):
        limit = self.config["rate_limit"]
        if not limit:
            return
        with self.state.lock:
            now = time.monotonic()
            self.hits = [t for t in self.hits if now - t < self.config["rate_window"]]
            if len(self.hits) >= limit:
                raise ApiError(
                    429,
                    971,
                    "More than %d requests per %d seconds reached. Please wait and consider "
                    "throttling your request speed" % (limit, self.config["rate_window"]),
                )
            self.hits.append(now)
