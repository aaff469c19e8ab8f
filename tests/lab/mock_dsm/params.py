"""Reading DSM request parameters, and DSM's answers to bad ones.

DSM's UI and clients send structured values as JSON text, and strings either bare or JSON-quoted
(`name="default"`), so handlers accept both. Bad parameters (docs/lab-fidelity.md, "bad-parameter
codes"): 101 is only for a missing api/method/version (app.py); a missing API parameter is 114 ("lost
parameters"); an invalid one is 120 with `error.errors` naming it, `{"name": ..., "reason": ...}`,
the shape public DSM clients quote and PM's probes describe.
"""

from __future__ import annotations

import json

from tests.lab.mock_dsm.errors import ApiError


def invalid(name, reason="type"):
    """DSM's 120 naming the parameter it refused (raise it)."""
    return ApiError(120, {"name": name, "reason": reason})


def required(request, name, code=114):
    """The parameter's raw value; 114 when it is missing (120 `required` where a probe showed that)."""
    value = request.param(name)
    if value is None:
        raise invalid(name, "required") if code == 120 else ApiError(code)
    return value


def json_value(value, name=None):
    """A JSON-encoded parameter; a value that is not JSON is refused with 120 naming `name`."""
    try:
        return json.loads(value) if isinstance(value, str) else value
    except ValueError:
        raise invalid(name or "value")


def maybe_json(value):
    """A parameter that may be JSON-encoded or bare text (ids, names)."""
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def text(value, name=None):
    """A string parameter, bare or JSON-quoted."""
    if isinstance(value, str) and value.startswith('"'):
        return json_value(value, name)
    return value


def boolean(value):
    if isinstance(value, bool):
        return value
    return str(value).lower() == "true"
