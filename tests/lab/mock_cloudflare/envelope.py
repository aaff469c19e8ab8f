"""Cloudflare's v4 envelope: `{"success", "errors", "messages", "result"[, "result_info"]}`, request
bodies and pagination."""

from __future__ import annotations

import json

from tests.lab.common.http import Response, compact_json
from tests.lab.mock_cloudflare.errors import ApiError


def json_body(request):
    try:
        body = json.loads(request.raw_body or b"{}")
    except ValueError:
        raise ApiError(400, 6007, "Malformed JSON in request body") from None
    if not isinstance(body, dict):
        raise ApiError(400, 6007, "Malformed JSON in request body")
    return body


def page(request, items, default, maximum):
    """(one page of items, result_info) as Cloudflare paginates lists."""
    try:
        number = max(1, int(request.query.get("page", 1)))
        per_page = min(maximum, max(1, int(request.query.get("per_page", default))))
    except ValueError:
        raise ApiError(400, 1001, "page and per_page must be numbers") from None
    start = (number - 1) * per_page
    chunk = [dict(i) for i in items[start : start + per_page]]
    total_pages = max(1, -(-len(items) // per_page))
    info = {
        "page": number,
        "per_page": per_page,
        "count": len(chunk),
        "total_count": len(items),
        "total_pages": total_pages,
    }
    return chunk, info


def ok(result, info=None):
    body = {"success": True, "errors": [], "messages": [], "result": result}
    if info is not None:
        body["result_info"] = info
    response = Response(body=compact_json(body))
    response.outcome = "ok"
    return response


def error(exc, headers=None):
    entry = {"code": exc.code, "message": exc.message}
    if exc.chain:
        entry["error_chain"] = exc.chain
    response = Response(
        exc.status, compact_json({"success": False, "errors": [entry], "messages": [], "result": None}), headers=headers
    )
    response.outcome = exc.code
    return response
