"""pytest fixtures for the lab: an in-process mock DSM per test session, reset before each test."""

from __future__ import annotations

import json
import urllib.request

import pytest

from tests.lab.mock_dsm import server as dsm_server
from tests.lab.mock_dsm.seed import LAB_PASSWORD


class DsmLab:
    """What a test needs from the running mock: where it is, its state, its log, its faults."""

    def __init__(self, lab, info):
        self.lab = lab
        self.info = info
        self.host = info["host"]
        self.https_port = info["https_port"]
        self.http_port = info["http_port"]
        self.ca_path = info["ca_path"]

    def _control(self, path, payload=None):
        url = "http://%s:%s/_lab/%s" % (self.host, self.http_port, path)
        data = json.dumps(payload).encode() if payload is not None else None
        with urllib.request.urlopen(urllib.request.Request(url, data=data, method="POST" if data else "GET")) as r:
            return json.load(r)

    def reset(self):
        self._control("reset", {})

    def state(self):
        return self._control("state")

    def calls(self, api=None, method=None):
        """Request-log entries, optionally filtered."""
        return [e for e in self._control("log") if api in (None, e["api"]) and method in (None, e["method"])]

    def fault(self, **spec):
        self._control("faults", spec)

    def client_args(self, **overrides):
        args = dict(host=self.host, port=self.https_port, username="ansible", password=LAB_PASSWORD,
                    ca_path=self.ca_path)
        args.update(overrides)
        return args


@pytest.fixture(scope="session")
def dsm_lab_session(tmp_path_factory):
    lab, info = dsm_server.start(str(tmp_path_factory.mktemp("mock-dsm")))
    yield DsmLab(lab, info)
    lab.shutdown()


@pytest.fixture
def dsm_lab(dsm_lab_session):
    dsm_lab_session.reset()
    return dsm_lab_session
