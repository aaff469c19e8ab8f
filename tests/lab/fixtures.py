"""pytest fixtures for the lab: each mock runs in-process once per test session, reset before each test."""

from __future__ import annotations

import json
import ssl
import urllib.request

import pytest

from tests.lab.mock_cloudflare.seed import LAB_TOKEN
from tests.lab.mock_dsm.seed import LAB_PASSWORD
from tests.lab.registry import MOCKS


class MockHandle:
    """What a test needs from a running mock: its state, its request log, its faults and settings."""

    def __init__(self, spec, lab, info):
        self.lab = lab
        self.info = info
        self.host = info["host"]
        self._control_base = spec.control_url(info)
        self._tls = ssl.create_default_context(cafile=info["ca_path"]) if spec.control_tls else None

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
    def __init__(self, spec, lab, info):
        super().__init__(spec, lab, info)
        self.https_port = info["https_port"]
        self.http_port = info["http_port"]
        self.ca_path = info["ca_path"]

    def client_args(self, **overrides):
        args = dict(host=self.host, port=self.https_port, username="ansible", password=LAB_PASSWORD,
                    ca_path=self.ca_path)
        args.update(overrides)
        return args


class RouterLab(MockHandle):
    def __init__(self, spec, lab, info):
        super().__init__(spec, lab, info)
        self.igd_url = info["igd_url"]


class CloudflareLab(MockHandle):
    def __init__(self, spec, lab, info):
        super().__init__(spec, lab, info)
        self.api_base_url = info["api_base_url"]
        self.ca_path = info["ca_path"]
        self.origin_ca_root_url = info["origin_ca_root_url"]

    def module_args(self, **overrides):
        """Connection options for a module; pass zone=None for modules without a zone."""
        args = dict(api_token=LAB_TOKEN, api_base_url=self.api_base_url, ca_path=self.ca_path, zone="example.test")
        args.update(overrides)
        return {k: v for k, v in args.items() if v is not None}


HANDLES = {"dsm": DsmLab, "router": RouterLab, "cloudflare": CloudflareLab}


def _mock_fixtures(spec):
    """Two fixtures per mock: `<name>_lab_session`, one server for the test session, and `<name>_lab`,
    the same server reset before each test."""
    @pytest.fixture(scope="session", name="%s_lab_session" % spec.name)
    def session_fixture(tmp_path_factory):
        lab, info = spec.start(str(tmp_path_factory.mktemp("mock-" + spec.name)))
        yield HANDLES[spec.name](spec, lab, info)
        lab.shutdown()

    @pytest.fixture(name="%s_lab" % spec.name)
    def test_fixture(request):
        mock = request.getfixturevalue("%s_lab_session" % spec.name)
        mock.reset()
        return mock

    return session_fixture, test_fixture


# pebble + pebble-challtestsrv for DNS-01 tests (tests/lab/acme.py), registered here with the mocks.
from tests.lab.acme import acme_lab  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import

for _spec in MOCKS:
    globals()["%s_lab_session" % _spec.name], globals()["%s_lab" % _spec.name] = _mock_fixtures(_spec)
