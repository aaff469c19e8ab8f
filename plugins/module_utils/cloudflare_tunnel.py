# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""Cloudflare Tunnel under an account (/accounts/{account_id}/cfd_tunnel): find by name, create, delete, the
remote configuration's ingress rules, the connector token; and the grammar the module checks them with."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import re

from ansible_collections.homelab.nas.plugins.module_utils import dsm_validate as v
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_client import CloudflareError
from ansible_collections.homelab.nas.plugins.module_utils.errors import HomelabInputError

# Where a tunnel's hostnames point: a proxied CNAME to <tunnel id>.cfargotunnel.com.
TARGET_SUFFIX = ".cfargotunnel.com"
# Cloudflare's answer to a create whose name a tunnel that is not deleted already has.
NAME_TAKEN = 1013
ACCOUNT_ID = re.compile(r"[0-9a-f]{32}")
SERVICE_URL = re.compile(
    r"(?P<scheme>https?|tcp|ssh)://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.\-_]+)(?::(?P<port>[0-9]{1,5}))?/?"
)
HTTP_STATUS = re.compile(r"http_status:([1-5][0-9]{2})")
SERVICE_FORMS = "http://host[:port], https://host[:port], tcp://host:port, ssh://host[:port] or http_status:NNN"


def target(tunnel_id):
    return "%s%s" % (tunnel_id, TARGET_SUFFIX)


def account_id(value):
    text = str(value or "").strip().lower()
    if not ACCOUNT_ID.fullmatch(text):
        raise HomelabInputError(
            "account_id: '%s' is not a Cloudflare account id (32 hexadecimal characters: the dashboard's Account "
            "Home, or the zone's Overview page, API section)" % value
        )
    return text


def service(field, value):
    """A rule's service as cloudflared takes it, checked here so that no write starts with one it refuses."""
    text = str(value or "").strip()
    if HTTP_STATUS.fullmatch(text):
        return text
    match = SERVICE_URL.fullmatch(text)
    if not match:
        raise HomelabInputError(
            "%s: '%s' is not a service the connector can reach; use %s (no path: the visitor's path is kept)"
            % (field, value, SERVICE_FORMS)
        )
    host = match.group("host").strip("[]")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        v.hostname(field, host)
    port = match.group("port")
    if port is not None:
        v.port(field, port)
    if match.group("scheme") == "tcp" and port is None:
        raise HomelabInputError("%s: '%s' needs a port (tcp://host:port)" % (field, value))
    return text.rstrip("/")


def path(field, value):
    """A rule's path: a regular expression cloudflared matches the visitor's path against."""
    if value is None or value == "":
        return None
    text = str(value)
    if any(c.isspace() or ord(c) < 32 for c in text):
        raise HomelabInputError(
            "%s: '%s' holds a space or a control character; give a path such as /photos" % (field, value)
        )
    try:
        re.compile(text)
    except re.error as exc:
        raise HomelabInputError(
            "%s: '%s' is not a regular expression (%s); escape the special characters" % (field, value, exc)
        )
    return text


def parse_token(text):
    """The {a, t, s} a connector token carries, or None when `text` is not one."""
    try:
        data = json.loads(base64.b64decode(str(text).strip(), validate=True))
    except (ValueError, binascii.Error, TypeError):
        return None
    if isinstance(data, dict) and {"a", "t", "s"} <= set(data):
        return data
    return None


def rule_view(rule):
    """A rule as compared: the keys that are set, originRequest's keys sorted."""
    view = {k: rule[k] for k in ("hostname", "path", "service") if rule.get(k) not in (None, "")}
    if rule.get("originRequest"):
        view["originRequest"] = dict(sorted(rule["originRequest"].items()))
    return view


class CloudflareTunnels:
    def __init__(self, client, account):
        self.client = client
        self.path = "/accounts/%s/cfd_tunnel" % account

    def find(self, name):
        """The tunnel of that name that is not deleted, or None (the list shows deleted ones unless asked not to)."""
        found = [
            t
            for t in self.client.paginate(self.path, per_page=50, name=name, is_deleted="false")
            if t.get("name") == name and not t.get("deleted_at")
        ]
        if len(found) > 1:
            raise CloudflareError("%d tunnels are named %s; delete the extra ones in Cloudflare" % (len(found), name))
        return found[0] if found else None

    def exists(self, tunnel_id):
        try:
            tunnel = self.client.get("%s/%s" % (self.path, tunnel_id))
        except CloudflareError as exc:
            if exc.status == 404:
                return False
            raise
        return not tunnel.get("deleted_at")

    def create(self, name):
        """A remotely managed tunnel; when another controller made it since the list (1013), that one."""
        try:
            return self.client.request("POST", self.path, body={"name": name, "config_src": "cloudflare"})["result"]
        except CloudflareError as exc:
            if NAME_TAKEN not in exc.codes:
                raise
            found = self.find(name)
            if found is None:
                raise
            return found

    def delete(self, tunnel_id):
        self.client.request("DELETE", "%s/%s" % (self.path, tunnel_id))

    def configuration(self, tunnel_id):
        """The remote configuration's `config` object ({} before the first one)."""
        result = self.client.get("%s/%s/configurations" % (self.path, tunnel_id)) or {}
        config = result.get("config")
        return dict(config) if isinstance(config, dict) else {}

    def put_configuration(self, tunnel_id, config):
        self.client.request("PUT", "%s/%s/configurations" % (self.path, tunnel_id), body={"config": config})

    def token(self, tunnel_id):
        return self.client.get("%s/%s/token" % (self.path, tunnel_id))
