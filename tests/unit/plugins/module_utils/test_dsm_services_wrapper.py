"""dsm_services' wrapper on answers the mock does not give (no public source shows DSM giving them, so the module must
cope): booleans as text, a QuickConnect API that stops at version 2, a relay answer of another shape, a Terminal answer
without one of its four fields. Plus the wrapper on the mock DSM itself."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.nas.plugins.module_utils import dsm_services as svc
from ansible_collections.homelab.nas.plugins.module_utils.dsm_errors import DsmError


class FakeClient:
    """Answers from a table: {(api, method): data or DsmError}; api_info from `versions`."""

    def __init__(self, answers, max_version=3):
        self.answers = answers
        self.max_version = max_version
        self.calls = []

    def api_info(self, name):
        return {"minVersion": 1, "maxVersion": self.max_version, "path": "entry.cgi"}

    def read(self, api, method, version, **params):
        self.calls.append((api, method, version, params))
        answer = self.answers[(api, method)]
        if isinstance(answer, Exception):
            raise answer
        return answer

    write = read

    def offers(self, name):
        return True

    def batch_results(self, calls):
        """One compound request, as the client sends it: each call's (data, error)."""
        out = []
        for api, method, version, params in calls:
            try:
                out.append((self.read(api, method, version, **params), None))
            except DsmError as exc:
                out.append((None, exc))
        return out


QC_GET = {"enabled": "true", "server_alias": "nas", "region": "eu", "domain": "quickconnect.to"}


@pytest.mark.parametrize(
    "value,expected",
    [(True, True), ("false", False), ("yes", True), ("no", False), (1, True), (0, False), ("on?", None), (None, None)],
)
def test_flag_reads_the_plausible_spellings(value, expected):
    assert svc.flag(value) is expected


def test_terminal_answer_without_a_field_is_an_error_not_a_guess():
    client = FakeClient({(svc.TERMINAL_API, "get"): {"enable_ssh": True, "ssh_port": 22, "enable_telnet": False}})
    with pytest.raises(DsmError, match="without forbid_console"):
        svc.DsmServices(client).read(with_quickconnect=False)


def test_terminal_booleans_and_port_as_text_are_read():
    raw = {"enable_ssh": "true", "enable_telnet": "false", "forbid_console": "no", "ssh_port": "2222"}
    view, _quickconnect = svc.DsmServices(FakeClient({(svc.TERMINAL_API, "get"): raw})).read(with_quickconnect=False)
    assert view == {"ssh": {"enabled": True, "port": 2222}, "telnet": False, "forbid_console": False}


def test_quickconnect_that_stops_at_version_2_has_no_relay_and_is_not_asked_for_it():
    client = FakeClient({(svc.QUICKCONNECT_API, "get"): QC_GET}, max_version=2)
    state = svc.DsmServices(client).quickconnect()
    assert state["installed"] is True and state["enabled"] is True
    assert state["relay"] is None and state["relay_readable"] is False
    assert [c[1] for c in client.calls] == ["get"]


@pytest.mark.parametrize("misc", [{}, {"relay": True}, {"relay_enabled": "maybe"}])
def test_a_relay_answer_of_another_shape_is_unreadable(misc):
    client = FakeClient({(svc.QUICKCONNECT_API, "get"): QC_GET, (svc.QUICKCONNECT_API, "get_misc_config"): misc})
    state = svc.DsmServices(client).quickconnect()
    assert state["relay"] is None and state["relay_readable"] is False


def test_a_relay_method_dsm_does_not_have_is_unreadable_and_other_errors_propagate():
    answers = {(svc.QUICKCONNECT_API, "get"): QC_GET, (svc.QUICKCONNECT_API, "get_misc_config"): DsmError("x", 103)}
    assert svc.DsmServices(FakeClient(answers)).quickconnect()["relay_readable"] is False
    answers[(svc.QUICKCONNECT_API, "get_misc_config")] = DsmError("x", 105)
    with pytest.raises(DsmError):
        svc.DsmServices(FakeClient(answers)).quickconnect()


def test_a_missing_package_is_reported_not_raised():
    client = FakeClient({(svc.QUICKCONNECT_API, "get"): DsmError("absent", 102)})
    assert svc.DsmServices(client).quickconnect() == {
        "installed": False,
        "enabled": None,
        "relay": None,
        "relay_readable": False,
    }


def test_a_switch_dsm_accepts_without_effect_fails_naming_what_was_tried():
    client = FakeClient({(svc.QUICKCONNECT_API, "get"): QC_GET, (svc.QUICKCONNECT_API, "set"): {}}, max_version=2)
    with pytest.raises(DsmError, match="did not turn QuickConnect off") as caught:
        svc.DsmServices(client).set_quickconnect_enabled(False, dict(QC_GET, server_alias="nas", region="eu"))
    assert "accepted, no effect" in str(caught.value) and "'enable'" in str(caught.value)


def test_wrapper_on_the_mock_writes_terminal_whole(dsm_client, dsm_lab, dsm_writes):
    api = svc.DsmServices(dsm_client)
    view = api.read(with_quickconnect=False)[0]
    view["ssh"] = {"enabled": True, "port": 2200}
    api.set_terminal(view)
    assert dsm_lab.state()["terminal"] == {
        "enable_ssh": True,
        "enable_telnet": False,
        "forbid_console": False,
        "ssh_port": 2200,
    }
    assert dsm_writes() == [(svc.TERMINAL_API, "set")]
    assert [c["version"] for c in dsm_lab.calls(svc.TERMINAL_API, "set")] == ["3"]
