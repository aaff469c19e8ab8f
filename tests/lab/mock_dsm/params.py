"""Reading DSM request parameters: DSM's UI and clients send structured values as JSON text, and
strings either bare or JSON-quoted (`name="default"`), so handlers accept both."""

from __future__ import annotations

import json

from tests.lab.mock_dsm.errors import ApiError


def json_value(value, code=101):
    """A JSON-encoded parameter; a value that is not JSON answers `code`."""
    try:
        return json.loads(value) if isinstance(value, str) else value
    except ValueError:
        raise ApiError(code)


def maybe_json(value):
    """A parameter that may be JSON-encoded or bare text (ids, names)."""
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def text(value):
    """A string parameter, bare or JSON-quoted."""
    if isinstance(value, str) and value.startswith('"'):
        return json_value(value)
    return value


def boolean(value):
    if isinstance(value, bool):
        return value
    return str(value).lower() == "true"
