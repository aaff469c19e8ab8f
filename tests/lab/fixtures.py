"""pytest fixtures for the lab: each mock runs in-process once per test session, reset before each test."""

from __future__ import annotations

import json
import ssl
import urllib.request

import pytest

from tests.lab.mock_dsm import server as dsm_server
from tests.lab.mock_dsm.seed import LAB_PASSWORD
from tests.lab.mock_cloudflare import server as cloudflare_server
from tests.lab.mock_cloudflare.seed import LAB_TOKEN
from tests.lab.mock_router import server as router_server


class MockHandle:
    """What a test needs from a running mock: its state, its request log, its faults and settings."""

    def __init__(self, lab, info, control_port, ca_path=None):
        self.lab = lab
        self.info = info
        self.host = info["host"]
        self._control_base = "%s://%s:%s/_lab/" % ("https" if ca_path else "http", self.host, control_port)
        self._tls = ssl.create_default_context(cafile=ca_path) if ca_path else None

    def _control(self, path, payload=None):
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(self._control_base + path, data=data, method="POST" if data else "GET")
        with urllib.request.urlopen(request, context=self._tls) as reply:
            return json.load(reply)

    def reset(self):
        self._control("reset", {})

    def state(self):
        return self._control("state")

    def calls(self, api=None, method=None):
        """Request-log entries, optionally filtered."""
        return [e for e in self._control("log") if api in (None, e["api"]) and method in (None, e["method"])]

    def clear_log(self):
        self._control("log", {})

    def fault(self, **spec):
        self._control("faults", spec)

    def configure(self, **settings):
        self._control("config", settings)


class DsmLab(MockHandle):
    def __init__(self, lab, info):
        super().__init__(lab, info, info["http_port"])
        self.https_port = info["https_port"]
        self.http_port = info["http_port"]
        self.ca_path = info["ca_path"]

    def client_args(self, **overrides):
        args = dict(host=self.host, port=self.https_port, username="ansible", password=LAB_PASSWORD,
                    ca_path=self.ca_path)
        args.update(overrides)
        return args


class RouterLab(MockHandle):
    def __init__(self, lab, info):
        super().__init__(lab, info, info["port"])
        self.igd_url = info["igd_url"]


class CloudflareLab(MockHandle):
    def __init__(self, lab, info):
        super().__init__(lab, info, info["port"], ca_path=info["ca_path"])
        self.api_base_url = info["api_base_url"]
        self.ca_path = info["ca_path"]
        self.origin_ca_root_url = info["origin_ca_root_url"]

    def module_args(self, **overrides):
        """Connection options for a module; pass zone=None for modules without a zone."""
        args = dict(api_token=LAB_TOKEN, api_base_url=self.api_base_url, ca_path=self.ca_path, zone="example.test")
        args.update(overrides)
        return {k: v for k, v in args.items() if v is not None}


def _mock_fixtures(name, server, handle):
    """Two fixtures per mock: one server for the test session, and a reset copy of it per test."""
    @pytest.fixture(scope="session", name="%s_lab_session" % name)
    def session_fixture(tmp_path_factory):
        lab, info = server.start(str(tmp_path_factory.mktemp("mock-" + name)))
        yield handle(lab, info)
        lab.shutdown()

    @pytest.fixture(name="%s_lab" % name)
    def test_fixture(request):
        mock = request.getfixturevalue("%s_lab_session" % name)
        mock.reset()
        return mock

    return session_fixture, test_fixture


dsm_lab_session, dsm_lab = _mock_fixtures("dsm", dsm_server, DsmLab)
router_lab_session, router_lab = _mock_fixtures("router", router_server, RouterLab)
cloudflare_lab_session, cloudflare_lab = _mock_fixtures("cloudflare", cloudflare_server, CloudflareLab)
