"""DNS-01 through the lab: `_acme-challenge` TXT records mirrored into pebble-challtestsrv's DNS server.

Cloudflare serves a zone's records from its authoritative DNS; the lab has none, so when a test sets
`challtestsrv_url` (`/_lab/config`), every write to an `_acme-challenge.` TXT record re-publishes that
name there. challtestsrv's management API (boulder test/challtestsrv README, same binary in Debian's
pebble package): `POST /set-txt {"host", "value"}` adds one value to a name, `POST /clear-txt {"host"}`
drops all of them, so a name is cleared and then set again with every TXT record it still has.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from tests.lab.mock_cloudflare.errors import ApiError

PREFIX = "_acme-challenge."


def _post(base_url, path, body):
    request = urllib.request.Request(base_url.rstrip("/") + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as reply:
            reply.read()
    except (urllib.error.URLError, OSError) as exc:
        # A lab fault, not Cloudflare behaviour: fail the API call loudly so the test shows it.
        raise ApiError(502, 1000, "lab: cannot reach challtestsrv at %s: %s" % (base_url, exc))


def _txt_value(content):
    """A TXT content as one DNS string: clients send it bare or in quotes (RFC 1035 presentation form)."""
    content = content or ""
    if len(content) >= 2 and content[0] == content[-1] == '"':
        return content[1:-1]
    return content


def publish(base_url, records, names):
    """Make challtestsrv answer, for each of `names`, exactly the TXT records the zone has there."""
    if not base_url:
        return
    for name in sorted({n for n in names if n and n.startswith(PREFIX)}):
        host = name + "."
        _post(base_url, "/clear-txt", {"host": host})
        for record in records:
            if record["type"] == "TXT" and record["name"] == name:
                _post(base_url, "/set-txt", {"host": host, "value": _txt_value(record.get("content"))})
