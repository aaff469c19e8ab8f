"""Every mock of the lab, in one list: the CLI (`python -m tests.lab`), the pytest fixtures, `make demo`
and Molecule's create/destroy all start, reset and address the mocks through it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tests.lab.mock_cloudflare import server as cloudflare_server
from tests.lab.mock_dsm import server as dsm_server
from tests.lab.mock_router import server as router_server


@dataclass(frozen=True)
class MockSpec:
    name: str
    #: start(directory, host=..., **ports) -> (Lab, info dict written to lab.json)
    start: Callable
    #: the keyword arguments of `start` that choose a port (0 = any free port)
    ports: tuple[str, ...]
    #: the info key of the port that serves the /_lab/ control API, and whether it is HTTPS
    control_port: str
    control_tls: bool

    def control_url(self, info, path=""):
        scheme = "https" if self.control_tls else "http"
        return "%s://%s:%s/_lab/%s" % (scheme, info["host"], info[self.control_port], path)


MOCKS = (
    MockSpec("dsm", dsm_server.start, ("http_port", "https_port"), "http_port", False),
    MockSpec("router", router_server.start, ("port",), "port", False),
    MockSpec("cloudflare", cloudflare_server.start, ("port", "edge_https_port", "edge_http_port"), "port", True),
)
BY_NAME = {spec.name: spec for spec in MOCKS}
