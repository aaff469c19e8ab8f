"""ApiModule alone: check mode, diff direction, the failure shape, validation before any client, libraries."""

from __future__ import annotations

import os
import subprocess
import sys
import types

import pytest

from ansible_collections.homelab.nas.plugins.module_utils.api_module import ApiModule
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_client import CloudflareError
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_settings import SettingError
from ansible_collections.homelab.nas.plugins.module_utils.dsm_errors import DsmError
from ansible_collections.homelab.nas.plugins.module_utils.dsm_validate import InputError
from ansible_collections.homelab.nas.plugins.module_utils.errors import HomelabError, HomelabInputError
from ansible_collections.homelab.nas.plugins.module_utils.igd_client import UpnpError
from ansible_collections.homelab.nas.plugins.module_utils.nas_plan import PlanError
from ansible_collections.homelab.nas.plugins.module_utils.pem_checks import PemError
from tests.unit.plugins.modules.runner import run_module


class FakeClient:
    def __init__(self, log):
        self.log = log
        log.append("client")

    def close(self):
        self.log.append("close")


class Probe(ApiModule):
    error_class = HomelabError
    events = []

    def make_client(self):
        return FakeClient(self.events)


def module(body, validate=None, libraries=None):
    """A throwaway module whose main() builds a Probe and runs `body`."""

    def main():
        probe = Probe(
            argument_spec=dict(value=dict(type="str")), supports_check_mode=True, required_libraries=libraries
        )
        probe.run(body, validate=validate)

    return types.SimpleNamespace(main=main)


@pytest.fixture
def run(capsys):
    Probe.events = []

    def _run(body, check_mode=False, diff=False, validate=None, libraries=None, **args):
        return run_module(module(body, validate, libraries), args, capsys, check_mode=check_mode, diff=diff)

    return _run


def converging(before, after, applied):
    def body(mod, _wanted):
        mod.client.log.append("read")
        return mod.converge(before, after, lambda: applied.append(after) or {"applied": True}, {"extra": 1})

    return body


def test_change_is_applied_once_and_its_updates_returned(run):
    applied = []
    result = run(converging({"a": 1}, {"a": 2}, applied))
    assert result["changed"] is True and applied == [{"a": 2}]
    assert result["applied"] is True and result["extra"] == 1 and "diff" not in result
    assert Probe.events == ["client", "read", "close"]


def test_check_mode_reports_the_change_and_applies_nothing(run):
    applied = []
    result = run(converging({"a": 1}, {"a": 2}, applied), check_mode=True, diff=True)
    assert result["changed"] is True and applied == [] and "applied" not in result
    assert result["diff"] == {"before": {"a": 1}, "after": {"a": 2}}


def test_diff_runs_from_before_to_after(run):
    result = run(converging({"state": "old"}, {"state": "new"}, []), diff=True)
    assert result["diff"]["before"] == {"state": "old"} and result["diff"]["after"] == {"state": "new"}


def test_no_change_calls_nothing(run):
    applied = []
    result = run(converging({"a": 1}, {"a": 1}, applied), diff=True)
    assert result["changed"] is False and applied == []
    assert result["diff"]["before"] == result["diff"]["after"]


def producing(before, predicted, produced, calls):
    """A change whose real after is known once apply ran (a certificate the CA issued)."""

    def body(mod, _wanted):
        state = {}

        def apply():
            state["after"] = produced
            return {"applied": True}

        def after_apply():
            calls.append("after_apply")
            return state["after"]

        return mod.converge(before, predicted, apply, after_apply=after_apply)

    return body


@pytest.mark.parametrize("check_mode", [False, True])
def test_the_diff_after_is_what_apply_produced_and_the_prediction_in_check_mode(run, check_mode):
    calls = []
    before, predicted, produced = {"cert": "old"}, {"cert": "(a new one)"}, {"cert": "serial 42"}
    result = run(producing(before, predicted, produced, calls), check_mode=check_mode, diff=True)
    assert result["changed"] is True
    if check_mode:
        assert result["diff"] == {"before": before, "after": predicted} and calls == [] and "applied" not in result
    else:
        assert result["diff"] == {"before": before, "after": produced} and calls == ["after_apply"]
        assert result["applied"] is True


def test_after_apply_is_not_called_when_nothing_changes_or_no_diff_is_asked(run):
    calls = []
    unchanged = run(producing({"cert": "a"}, {"cert": "a"}, {"cert": "b"}, calls), diff=True)
    assert unchanged["changed"] is False and unchanged["diff"]["after"] == {"cert": "a"}
    no_diff = run(producing({"cert": "a"}, {"cert": "b"}, {"cert": "c"}, calls))
    assert no_diff["changed"] is True and no_diff["applied"] is True and "diff" not in no_diff
    assert calls == []


@pytest.mark.parametrize(
    "error,expected",
    [
        (
            DsmError("DSM said no", code=105, api="SYNO.Core.User", method="set"),
            dict(error_code=105, api="SYNO.Core.User", method="set", status=None),
        ),
        (
            DsmError("HTTP 502", api="SYNO.Core.User", method="list", status=502),
            dict(error_code=None, api="SYNO.Core.User", method="list", status=502),
        ),
        (
            CloudflareError("denied", status=403, codes=[9109, 6111], api="/zones", method="GET"),
            dict(error_code=9109, api="/zones", method="GET", status=403, error_codes=[9109, 6111]),
        ),
        (
            UpnpError("refused", code=718, action="AddPortMapping", api="urn:x:WANIPConnection:2", status=500),
            dict(
                error_code=718,
                api="urn:x:WANIPConnection:2",
                method="AddPortMapping",
                status=500,
                upnp_error=718,
                action="AddPortMapping",
            ),
        ),
        (UpnpError("no router answered"), dict(error_code=None, api=None, method=None, status=None)),
    ],
)
def test_every_api_error_fails_in_one_shape_with_the_partial_result(run, error, expected):
    def body(mod, _wanted):
        mod.partial["learnt"] = "before the failure"
        mod.client.log.append("read")
        raise error

    result = run(body)
    assert result["failed"] is True and result["msg"] == str(error)
    assert {k: result[k] for k in expected} == expected
    assert result["learnt"] == "before the failure"
    assert Probe.events[-1] == "close", "the client is closed when the task fails"


def test_unexpected_errors_fail_and_say_so(run):
    def body(mod, _wanted):
        mod.client.log.append("read")
        raise KeyError("surprise")

    result = run(body)
    assert result["failed"] is True and result["msg"] == "unexpected error: 'surprise'"
    assert Probe.events[-1] == "close"


def test_validation_runs_before_any_client_and_names_the_field(run):
    def validate(params):
        raise InputError("value: '%s' is not usable; use a number" % params["value"])

    def body(mod, wanted):
        raise AssertionError("the body must not run")

    result = run(body, validate=validate, value="x")
    assert result["failed"] is True and result["msg"].startswith("value: 'x' is not usable")
    assert Probe.events == [], "no client was made"


def test_validated_input_reaches_the_body(run):
    result = run(lambda mod, wanted: dict(changed=False, got=wanted), validate=lambda p: p["value"].upper(), value="ab")
    assert result["got"] == "AB"


def test_missing_required_library_fails_before_validation(run):
    calls = []
    result = run(
        lambda mod, wanted: calls.append("body"),
        validate=lambda p: calls.append("validate"),
        libraries={"netaddr": (False, ImportError("No module named 'netaddr'"))},
    )
    assert result["failed"] is True and "Failed to import the required Python library (netaddr)" in result["msg"]
    assert calls == [] and Probe.events == []


def test_the_input_errors_share_one_base_and_the_api_errors_another():
    for cls in (InputError, SettingError, PemError, PlanError):
        assert issubclass(cls, HomelabInputError) and issubclass(cls, ValueError)
    for cls in (DsmError, CloudflareError, UpnpError):
        assert issubclass(cls, HomelabError) and not issubclass(cls, HomelabInputError)


def test_the_router_module_imports_without_requests(tmp_path):
    """router_port_forward runs on DSM's bare Python: its import chain must not need requests."""
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text(
        "import sys\nclass Block:\n    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('requests', 'urllib3'):\n"
        "            raise ImportError('blocked: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path)] + sys.path))
    code = (
        "import ansible_collections.homelab.nas.plugins.modules.router_port_forward as m, sys;"
        "assert 'requests' not in sys.modules; print(m.RouterModule.__mro__[1].__name__)"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ApiModule"
