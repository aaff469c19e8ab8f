"""Cloudflare Tunnel (cfd_tunnel) under the account: create, list, get, delete, the remote configuration
(ingress rules) and the connector token.

Shapes from Cloudflare's "Create a tunnel (API)" guide and the generated SDKs (cloudflare-python /
cloudflare-typescript `zero_trust/tunnels`): a tunnel is `{id (a UUID), account_tag, name, created_at,
deleted_at, connections, conns_active_at, conns_inactive_at, tun_type "cfd_tunnel", metadata, status,
remote_config}`; the create answer adds `credentials_file` and `token`. The token is base64 of the JSON
`{"a": account tag, "t": tunnel id, "s": base64 secret}` (cloudflared's TunnelToken). Names are unique among
the account's tunnels that are not deleted (1013). The list includes deleted tunnels unless `is_deleted=false`.
A configuration PUT is checked as cloudflared checks ingress rules (the last rule must match everything).

No connector ever connects here (cloudflared cannot be installed in the lab), so `status` stays `inactive`
and `connections` empty; the edge answers 1033 for a tunnel's hostname (edge.py).
Tokens that list `permissions` need `cloudflare_tunnel` (Account: Cloudflare Tunnel Edit) here (seed.py).
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import uuid

from tests.lab.mock_cloudflare.envelope import json_body, page
from tests.lab.mock_cloudflare.errors import ApiError
from tests.lab.mock_cloudflare.settings import now

ACCOUNT = r"/accounts/(?P<account>[0-9a-f]{32})"
TUNNELS = ACCOUNT + r"/cfd_tunnel"
TUNNEL = TUNNELS + r"/(?P<tunnel>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
PERMISSION = "cloudflare_tunnel"
# What cloudflared accepts as a rule's service: a URL of these schemes, a unix socket, a fixed status, the
# built-in test servers (cloudflared's ingress/ingress.go, docs: "Ingress rules", supported protocols).
SERVICE_SCHEMES = ("http", "https", "tcp", "ssh", "rdp", "smb", "ws", "wss")
SPECIAL_SERVICES = ("hello_world", "bastion")
HTTP_STATUS = re.compile(r"http_status:([0-9]{3})")
HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
TUNNEL_FIELDS = (
    "id",
    "account_tag",
    "name",
    "created_at",
    "deleted_at",
    "connections",
    "conns_active_at",
    "conns_inactive_at",
    "tun_type",
    "metadata",
    "status",
    "remote_config",
)


def routes(app):
    t = Tunnels(app)
    return [
        ("GET", TUNNELS, t.list_tunnels, False),
        ("POST", TUNNELS, t.create_tunnel, True),
        ("GET", TUNNEL, t.get_tunnel, False),
        ("DELETE", TUNNEL, t.delete_tunnel, True),
        ("GET", TUNNEL + "/configurations", t.get_configuration, False),
        ("PUT", TUNNEL + "/configurations", t.put_configuration, True),
        ("GET", TUNNEL + "/token", t.get_token, False),
    ]


def _bad(code, message):
    return ApiError(400, code, message)


def connector_token(account, tunnel_id, secret):
    payload = json.dumps({"a": account, "t": tunnel_id, "s": secret}, separators=(",", ":"))
    return base64.b64encode(payload.encode()).decode()


def check_hostname(index, hostname):
    """A rule's hostname as cloudflared takes it: DNS labels, `*` alone or as the leftmost label only."""
    labels = hostname.lower().rstrip(".").split(".")
    if hostname == "*":
        return
    if "*" in hostname and (labels[0] != "*" or "*" in ".".join(labels[1:])):
        raise _bad(
            1055, "Validation failed: rule #%d: hostname wildcards are only allowed as the leftmost label" % index
        )
    if not all(HOST_LABEL.fullmatch(label) for label in labels[1 if labels[0] == "*" else 0 :]):
        raise _bad(1055, "Validation failed: rule #%d: '%s' is not a valid hostname" % (index, hostname))


def check_service(index, service):
    if not isinstance(service, str) or not service:
        raise _bad(1055, "Validation failed: rule #%d has no service" % index)
    if service in SPECIAL_SERVICES or service.startswith("unix:") or service.startswith("unix+tls:"):
        return
    status = HTTP_STATUS.fullmatch(service)
    if status:
        if not 100 <= int(status.group(1)) <= 599:
            raise _bad(1055, "Validation failed: rule #%d: %s is not an HTTP status" % (index, service))
        return
    scheme, sep, rest = service.partition("://")
    if not sep or scheme.lower() not in SERVICE_SCHEMES or not rest or rest.startswith("/"):
        raise _bad(
            1055,
            "Validation failed: rule #%d: the service %s is not a URL with a scheme and a host, a unix socket, "
            "http_status:<code> or hello_world" % (index, service),
        )
    if "/" in rest.rstrip("/"):
        raise _bad(
            1055,
            "Validation failed: rule #%d: %s is an invalid address, ingress rules don't support proxying to a "
            "different path on the origin service. The path will be the same as the eyeball request's path"
            % (index, service),
        )


def check_ingress(config):
    """The configuration as cloudflared validates it; ApiError for the first rule it refuses."""
    if not isinstance(config, dict):
        raise _bad(1001, "config must be an object")
    ingress = config.get("ingress")
    if ingress is None:
        return
    if not isinstance(ingress, list) or not all(isinstance(rule, dict) for rule in ingress):
        raise _bad(1001, "config.ingress must be a list of rules")
    if not ingress:
        raise _bad(1055, "Validation failed: The config file doesn't contain any ingress rules")
    for index, rule in enumerate(ingress, start=1):
        hostname, path = rule.get("hostname") or "", rule.get("path") or ""
        if hostname:
            check_hostname(index, hostname)
        check_service(index, rule.get("service"))
        origin = rule.get("originRequest")
        if origin is not None and not isinstance(origin, dict):
            raise _bad(1001, "rule #%d: originRequest must be an object" % index)
        matches_all = hostname in ("", "*") and not path
        if index < len(ingress) and matches_all:
            raise _bad(
                1055,
                "Validation failed: Rule #%d is matching the hostname '%s', but this will match every hostname, "
                "meaning the rules which follow it will never be triggered." % (index, hostname),
            )
    last = ingress[-1]
    if (last.get("hostname") or "") not in ("", "*") or last.get("path"):
        raise _bad(
            1055,
            "Validation failed: The last ingress rule must match all URLs (i.e. it should not have a hostname or "
            "path filter)",
        )


class Tunnels:
    def __init__(self, app):
        self.app = app

    def _account(self, account, token):
        if account != self.app.data["account"]["id"]:
            raise ApiError(
                404,
                7003,
                "Could not route to /accounts/%s/cfd_tunnel, perhaps your object identifier is invalid?" % account,
            )
        allowed = (token or {}).get("permissions")
        if allowed is not None and PERMISSION not in allowed:
            raise ApiError(403, 10000, "Authentication error")
        return self.app.data.get("tunnels", {})

    def _tunnel(self, account, tunnel, token):
        tunnels = self._account(account, token)
        if tunnel not in tunnels:
            raise ApiError(404, 1003, "Tunnel not found")  # the code is the lab's choice
        return tunnels[tunnel]

    @staticmethod
    def view(stored):
        return {k: stored[k] for k in TUNNEL_FIELDS}

    def list_tunnels(self, request, account, token=None, **_):
        tunnels = list(self._account(account, token).values())
        query = request.query
        deleted = query.get("is_deleted")
        if deleted not in (None, "", "true", "false"):
            raise _bad(1001, "is_deleted must be true or false")
        tests = []
        if query.get("name"):
            tests.append(lambda t: t["name"] == query["name"])
        if query.get("uuid"):
            tests.append(lambda t: t["id"] == query["uuid"])
        if deleted == "true":
            tests.append(lambda t: t["deleted_at"] is not None)
        elif deleted == "false":
            tests.append(lambda t: t["deleted_at"] is None)
        if query.get("include_prefix"):
            tests.append(lambda t: t["name"].startswith(query["include_prefix"]))
        if query.get("exclude_prefix"):
            tests.append(lambda t: not t["name"].startswith(query["exclude_prefix"]))
        chosen = [self.view(t) for t in tunnels if all(test(t) for test in tests)]
        chosen.sort(key=lambda t: t["created_at"])
        return page(request, chosen, default=20, maximum=1000)

    def create_tunnel(self, request, account, token=None, **_):
        tunnels = self._account(account, token)
        body = json_body(request)
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _bad(1001, "name is required")  # the code is the lab's choice
        source = body.get("config_src", "local")
        if source not in ("cloudflare", "local"):
            raise _bad(1001, "config_src must be cloudflare or local")
        if any(t["name"] == name and t["deleted_at"] is None for t in tunnels.values()):
            raise _bad(
                1013,
                "You already have a tunnel with this name. Delete the existing tunnel, or choose a different "
                "name for your new tunnel",
            )
        secret = body.get("tunnel_secret")
        if secret is None:
            secret = base64.b64encode(secrets.token_bytes(32)).decode()
        else:
            try:
                raw = base64.b64decode(str(secret), validate=True)
            except ValueError:
                raw = b""
            if len(raw) < 32:
                raise _bad(1001, "tunnel_secret must be at least 32 bytes, base64-encoded")
        tunnel_id, created = str(uuid.uuid4()), now()
        stored = {
            "id": tunnel_id,
            "account_tag": account,
            "name": name,
            "created_at": created,
            "deleted_at": None,
            "connections": [],
            "conns_active_at": None,
            "conns_inactive_at": created,
            "tun_type": "cfd_tunnel",
            "metadata": {},
            "status": "inactive",
            "remote_config": source == "cloudflare",
            "secret": secret,
            "configuration": None,
        }
        self.app.data.setdefault("tunnels", {})[tunnel_id] = stored
        result = self.view(stored)
        result["credentials_file"] = {
            "AccountTag": account,
            "TunnelID": tunnel_id,
            "TunnelName": name,
            "TunnelSecret": secret,
        }
        result["token"] = connector_token(account, tunnel_id, secret)
        return result, None

    def get_tunnel(self, request, account, tunnel, token=None, **_):
        return self.view(self._tunnel(account, tunnel, token)), None

    def delete_tunnel(self, request, account, tunnel, token=None, **_):
        stored = self._tunnel(account, tunnel, token)
        if stored["deleted_at"] is not None:
            raise _bad(1003, "Tunnel has already been deleted")  # the code is the lab's choice
        stored["deleted_at"] = now()
        return self.view(stored), None

    def _configuration(self, account, tunnel, stored):
        held = stored["configuration"] or {}
        return {
            "account_id": account,
            "tunnel_id": tunnel,
            "config": held.get("config"),
            "source": "cloudflare",
            "version": held.get("version", 0),
            "created_at": held.get("created_at", stored["created_at"]),
        }

    def get_configuration(self, request, account, tunnel, token=None, **_):
        stored = self._tunnel(account, tunnel, token)
        return self._configuration(account, tunnel, stored), None

    def put_configuration(self, request, account, tunnel, token=None, **_):
        stored = self._tunnel(account, tunnel, token)
        if stored["deleted_at"] is not None:
            raise ApiError(404, 1003, "Tunnel not found")
        body = json_body(request)
        config = body.get("config")
        check_ingress(config)
        version = (stored["configuration"] or {}).get("version", 0) + 1
        stored["configuration"] = {"config": config, "version": version, "created_at": now()}
        return self._configuration(account, tunnel, stored), None

    def get_token(self, request, account, tunnel, token=None, **_):
        stored = self._tunnel(account, tunnel, token)
        return connector_token(account, tunnel, stored["secret"]), None
