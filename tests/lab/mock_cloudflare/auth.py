"""Who is calling: an API token (`Authorization: Bearer`) or the account's email and Global API key
(`X-Auth-Email` + `X-Auth-Key`), the two schemes every Cloudflare API page documents.

Answers as Cloudflare gives them in public reports: a malformed header is 6003 "Invalid request headers"
with an error_chain of 6111 (Authorization), 6102 (X-Auth-Email) or 6103 (X-Auth-Key, e.g. a token sent
there); a well-formed but unknown email/key pair is 9103; no credentials at all is 9106; an unknown token
9109; a token without the permission 10000. The Global API key may do everything, as on Cloudflare.
"""

from __future__ import annotations

import re

from tests.lab.mock_cloudflare.errors import ApiError

BEARER = re.compile(r"Bearer ([A-Za-z0-9_\-]{20,})")
# Global API keys are 37 lowercase hex characters (rmbolger/Posh-ACME#126); emails only need to look like one.
GLOBAL_KEY = re.compile(r"[0-9a-f]{37}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
GLOBAL_KEY_IDENTITY = {"id": None, "write": True, "global_key": True}


def _headers_error(*chain):
    return ApiError(400, 6003, "Invalid request headers",
                    [{"code": code, "message": message} for code, message in chain])


def authenticate(data, request, writes):
    """The caller's credentials entry (a token's or the Global API key's), or ApiError."""
    header = request.headers.get("Authorization")
    if header is not None:
        match = BEARER.fullmatch(header)
        if not match:
            raise _headers_error((6111, "Invalid format for Authorization header"))
        token = data["tokens"].get(match.group(1))
        if token is None:
            raise ApiError(400, 9109, "Invalid access token")
        if writes and not token["write"]:
            raise ApiError(403, 10000, "Authentication error")
        return token
    email, key = request.headers.get("X-Auth-Email"), request.headers.get("X-Auth-Key")
    if email is None and key is None:
        raise ApiError(400, 9106, "Missing X-Auth-Key, X-Auth-Email or Authorization headers")
    chain = []
    if email is None or not EMAIL.fullmatch(email):
        chain.append((6102, "Invalid format for X-Auth-Email header"))
    if key is None or not GLOBAL_KEY.fullmatch(key):
        chain.append((6103, "Invalid format for X-Auth-Key header"))
    if chain:
        raise _headers_error(*chain)
    account = data.get("account") or {}  # a state saved before the account existed has no key
    if email.lower() != account.get("email") or key != account.get("global_api_key"):
        raise ApiError(403, 9103, "Unknown X-Auth-Key or X-Auth-Email")
    return GLOBAL_KEY_IDENTITY
