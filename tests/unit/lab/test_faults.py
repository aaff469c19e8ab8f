"""The lab's fault rules (tests/lab/common/http.py `Faults`, `/_lab/faults`): `skip` lets the first n matching calls
through, then `count` fail; rules are matched by api and method and count on their own."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.lab.common.http import Faults
from tests.unit.lab.test_mock_router import Router


def outcomes(faults, calls):
    """The fault kind each call gets (None: answered), in order."""
    return [(faults.take(api, method) or {}).get("kind") for api, method in calls]


def test_skip_lets_the_first_matching_calls_through_then_fails_count():
    faults = Faults()
    faults.configure({"fail_next": {"api": "A", "method": "create", "skip": 2, "count": 2}})
    calls = [("A", "create"), ("A", "list"), ("B", "create"), ("A", "create"), ("A", "create"), ("A", "create")]
    calls += [("A", "create"), ("A", "create")]
    # Calls of another api or method neither fail nor use up the skip.
    assert outcomes(faults, calls) == [None, None, None, None, "fail_next", "fail_next", None, None]


def test_without_skip_the_next_matching_call_fails_once():
    faults = Faults()
    faults.configure({"http_error_next": {"method": "delete", "status": 502}})
    assert outcomes(faults, [("A", "list"), ("A", "delete"), ("B", "delete")]) == [None, "http_error_next", None]


def test_each_rule_counts_the_calls_it_sees():
    faults = Faults()
    faults.configure({"fail_next": {"api": "A", "skip": 1}, "http_error_next": {"api": "A", "skip": 2}})
    # Call 1: skipped by both. Call 2: failed by fail_next, unseen by the second rule. Call 3: its second skip.
    assert outcomes(faults, [("A", "x")] * 5) == [None, "fail_next", None, "http_error_next", None]


@pytest.mark.parametrize(
    "spec",
    [
        {"fail_next": {"skip": -1}},
        {"fail_next": {"skip": "1"}},
        {"http_error_next": {"count": 1.5}},
        {"fail_next": {"count": True}},
        {"fail_next": ["A"]},
    ],
)
def test_a_malformed_rule_is_refused_and_adds_nothing(spec):
    faults = Faults()
    faults.configure({"fail_next": {"api": "A"}})
    with pytest.raises(ValueError):
        faults.configure(dict(spec, latency_ms=500))
    assert faults.latency == 0.0
    assert outcomes(faults, [("A", "x"), ("A", "x")]) == ["fail_next", None]


def test_skip_over_the_control_api_fails_the_nth_call_on_the_wire(router_lab):
    router = Router(router_lab)
    router_lab.fault(fail_next={"method": "GetExternalIPAddress", "skip": 1, "code": 501})
    answers = [router.soap("GetExternalIPAddress")[:2] for attempt in range(3)]
    assert [status for status, out in answers] == [200, 500, 200]
    assert answers[1][1] == 501
    logged = [(c["method"], c["fault"]) for c in router_lab.calls(method="GetExternalIPAddress")]
    assert logged == [("GetExternalIPAddress", None), ("GetExternalIPAddress", "fail_next")] + [
        ("GetExternalIPAddress", None)
    ]


def test_the_control_api_refuses_a_malformed_rule_naming_the_field(router_lab):
    request = urllib.request.Request(
        router_lab._control_base + "faults",  # pylint: disable=protected-access
        data=json.dumps({"fail_next": {"skip": -1}}).encode(),
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request)  # pylint: disable=consider-using-with
    assert refused.value.code == 400
    assert "fail_next.skip" in json.loads(refused.value.read())["error"]
