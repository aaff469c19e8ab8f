"""How a family file declares an API: its CGI path, versions and methods, as SYNO.API.Info lists it."""

from __future__ import annotations

from tests.lab.common.http import Response, compact_json

# What DSM 7 sends with its JSON answers (response headers in home-assistant/core#54238 and #97392).
CONTENT_TYPE = 'application/json; charset="UTF-8"'


class Api:
    """methods: name -> (handler(request) -> data dict | bytes | Response, writes?).

    request_format: DSM's SYNO.API.Info lists `"requestFormat": "JSON"` for most APIs (go-synology's
    api_info.json dump), not for SYNO.API.Auth.
    available: () -> bool for a package's API, which DSM neither lists nor answers (102) while the package is
    missing; None: always there.
    """

    def __init__(
        self, path, min_version, max_version, methods, admin=True, session=True, request_format=True, available=None
    ):
        self.path = path
        self.min_version = min_version
        self.max_version = max_version
        self.methods = methods
        self.admin = admin
        self.session = session
        self.request_format = request_format
        self.available = available

    def present(self):
        return self.available is None or bool(self.available())

    def info(self):
        info = {"maxVersion": self.max_version, "minVersion": self.min_version, "path": self.path}
        if self.request_format:
            info["requestFormat"] = "JSON"
        return info


def envelope_ok(data, headers=None):
    """DSM's success envelope."""
    response = Response(
        body=compact_json({"data": data, "success": True}), headers=headers or {}, content_type=CONTENT_TYPE
    )
    response.outcome = "ok"
    return response


def envelope_error(code, errors=None):
    error = {"code": code}
    if errors is not None:
        error["errors"] = errors
    response = Response(body=compact_json({"error": error, "success": False}), content_type=CONTENT_TYPE)
    response.outcome = code
    return response
