"""The mock Cloudflare API v4: token auth, zones, settings (single and bulk), DNS records, Origin CA, IP ranges.

Envelope `{"success", "errors", "messages", "result"[, "result_info"]}`; errors as Cloudflare sends them
(6003/6111 malformed Authorization header, 9109 invalid token, 10000 missing permission, 7003 unknown object,
1006/1007 unknown setting or invalid value, 1012 setting not editable on the plan, 1004 DNS validation,
1100-series Origin CA request errors). Where Cloudflare's exact code for a case is not documented the mock
uses one of these and says so in docs/architecture.md. A configurable rate limit answers 429 with Retry-After.
"""

from __future__ import annotations

import copy
import datetime
import ipaddress
import json
import re
import threading
import time
import secrets

from tests.lab.common.http import Response, compact_json
from tests.lab.mock_cloudflare import seed
from tests.lab.mock_cloudflare.errors import ApiError
from tests.lab.mock_cloudflare.origin_ca import OriginCa

ENUMS = {
    "ssl": ("off", "flexible", "full", "strict"), "min_tls_version": ("1.0", "1.1", "1.2", "1.3"),
    "tls_1_3": ("on", "off", "zrt"),
}
HSTS_FIELDS = {"enabled": bool, "max_age": int, "include_subdomains": bool, "preload": bool, "nosniff": bool}
VALIDITY_DAYS = (7, 30, 90, 365, 730, 1095, 5475)


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class MockCloudflare:
    def __init__(self, directory):
        self.lock = threading.RLock()
        self.origin_ca = OriginCa(directory)
        self.routes = [
            ("GET", r"/user/tokens/verify", self.verify_token, False),
            ("GET", r"/zones", self.list_zones, False),
            ("GET", r"/zones/(?P<zone>[0-9a-f]{32})", self.get_zone, False),
            ("GET", r"/zones/(?P<zone>[0-9a-f]{32})/settings", self.list_settings, False),
            ("PATCH", r"/zones/(?P<zone>[0-9a-f]{32})/settings", self.edit_settings, True),
            ("GET", r"/zones/(?P<zone>[0-9a-f]{32})/settings/(?P<setting>[a-z0-9_]+)", self.get_setting, False),
            ("PATCH", r"/zones/(?P<zone>[0-9a-f]{32})/settings/(?P<setting>[a-z0-9_]+)", self.edit_setting, True),
            ("GET", r"/zones/(?P<zone>[0-9a-f]{32})/dns_records", self.list_records, False),
            ("POST", r"/zones/(?P<zone>[0-9a-f]{32})/dns_records", self.create_record, True),
            ("GET", r"/zones/(?P<zone>[0-9a-f]{32})/dns_records/(?P<record>[0-9a-f]{32})", self.get_record, False),
            ("PUT", r"/zones/(?P<zone>[0-9a-f]{32})/dns_records/(?P<record>[0-9a-f]{32})", self.put_record, True),
            ("PATCH", r"/zones/(?P<zone>[0-9a-f]{32})/dns_records/(?P<record>[0-9a-f]{32})", self.patch_record, True),
            ("DELETE", r"/zones/(?P<zone>[0-9a-f]{32})/dns_records/(?P<record>[0-9a-f]{32})", self.delete_record, True),
            ("GET", r"/certificates", self.list_certificates, False),
            ("POST", r"/certificates", self.create_certificate, True),
            ("GET", r"/certificates/(?P<cert>[0-9]+)", self.get_certificate, False),
            ("DELETE", r"/certificates/(?P<cert>[0-9]+)", self.revoke_certificate, True),
            ("GET", r"/ips", self.ips, None),
        ]
        self.lab_reset()

    # -- lab hooks -----------------------------------------------------------
    def lab_reset(self):
        with self.lock:
            self.data = seed.initial_state()
            self.config = {"rate_limit": 0, "rate_window": 60, "bulk_settings": True}
            self.hits = []

    def lab_state(self):
        with self.lock:
            return copy.deepcopy(self.data)

    def lab_configure(self, spec):
        with self.lock:
            unknown = set(spec) - set(self.config) - {"ips"}
            if unknown:
                raise ValueError("unknown Cloudflare lab settings: %s" % ", ".join(sorted(unknown)))
            if "ips" in spec:
                self.data["ips"] = dict(spec.pop("ips"))
            self.config.update(spec)

    def expire_sessions(self):
        """Tokens do not expire in the lab."""

    @staticmethod
    def fault_response(fault):
        return _error(ApiError(int(fault.get("status", 400)), int(fault.get("code", 1000)), "Injected fault"))

    @staticmethod
    def http_error_response(fault):
        status = int(fault.get("status", 502))
        headers = {"Retry-After": str(fault["retry_after"])} if "retry_after" in fault else {}
        if status == 429:
            return _error(ApiError(429, 971, "Please wait and consider throttling your request speed"), headers)
        return Response(status, b"<html>Bad gateway</html>", "text/html", headers)

    @staticmethod
    def describe_call(request):
        path = request.path.split("/client/v4", 1)[-1]
        shape = re.sub(r"/[0-9a-f]{32}", "/:id", path)
        shape = re.sub(r"/certificates/[0-9]+", "/certificates/:id", shape)
        return request.verb, shape, {}

    # -- HTTP ----------------------------------------------------------------
    def handle(self, request):
        if request.path == "/static/origin_ca_rsa_root.pem":
            return Response(body=self.origin_ca.root_pem, content_type="application/x-pem-file")
        if not request.path.startswith("/client/v4/"):
            return Response(404, b"not found", "text/plain")
        path = request.path[len("/client/v4"):]
        try:
            for verb, pattern, handler, writes in self.routes:
                match = re.fullmatch(pattern, path)
                if match and verb == request.verb:
                    token = None if writes is None else self._authenticate(request, writes)
                    self._rate_limit()
                    with self.lock:
                        return _ok(*handler(request, token=token, **match.groupdict()))
            if any(re.fullmatch(route[1], path) for route in self.routes):
                raise ApiError(405, 10405, "Method not allowed for this endpoint")
            raise ApiError(404, 7003, "Could not route to %s, perhaps your object identifier is invalid?" % path)
        except ApiError as exc:
            return _error(exc, {"Retry-After": "1"} if exc.status == 429 else None)

    def _authenticate(self, request, writes):
        header = request.headers.get("Authorization")
        match = re.fullmatch(r"Bearer ([A-Za-z0-9_\-]{20,})", header or "")
        if not match:
            raise ApiError(400, 6003, "Invalid request headers",
                           [{"code": 6111, "message": "Invalid format for Authorization header"}])
        token = self.data["tokens"].get(match.group(1))
        if token is None:
            raise ApiError(400, 9109, "Invalid access token")
        if writes and not token["write"]:
            raise ApiError(403, 10000, "Authentication error")
        return token

    def _rate_limit(self):
        limit = self.config["rate_limit"]
        if not limit:
            return
        with self.lock:
            now = time.monotonic()
            self.hits = [t for t in self.hits if now - t < self.config["rate_window"]]
            if len(self.hits) >= limit:
                raise ApiError(429, 971, "Please wait and consider throttling your request speed")
            self.hits.append(now)

    # -- tokens and zones ------------------------------------------------------
    def verify_token(self, request, token, **_):
        return {"id": token["id"], "status": "active"}, None

    def list_zones(self, request, **_):
        zones = sorted(self.data["zones"].values(), key=lambda z: z["name"])
        name = request.query.get("name")
        if name:
            zones = [z for z in zones if z["name"] == name.lower().rstrip(".")]
        return _page(request, zones, default=20, maximum=50)

    def _zone(self, zone):
        if zone not in self.data["zones"]:
            raise ApiError(404, 7003, "Could not route to /zones/%s, perhaps your object identifier is invalid?" % zone)
        return self.data["zones"][zone]

    def get_zone(self, request, zone, **_):
        return self._zone(zone), None

    # -- settings --------------------------------------------------------------
    def list_settings(self, request, zone, **_):
        self._zone(zone)
        return [dict(s) for s in self.data["settings"][zone].values()], None

    def get_setting(self, request, zone, setting, **_):
        self._zone(zone)
        if setting not in self.data["settings"][zone]:
            raise ApiError(400, 1006, "Unrecognized zone setting name")
        return dict(self.data["settings"][zone][setting]), None

    def _check_setting(self, zone, sid, value):
        settings = self.data["settings"][zone]
        if sid not in settings:
            raise ApiError(400, 1006, "Unrecognized zone setting name")
        if not settings[sid]["editable"]:
            raise ApiError(400, 1012, "%s cannot be changed on this zone's plan" % sid)
        current = settings[sid]["value"]
        if sid == "security_header":
            hsts = (value or {}).get("strict_transport_security") if isinstance(value, dict) else None
            if not isinstance(hsts, dict) or set(hsts) - set(HSTS_FIELDS) or \
                    any(not isinstance(hsts[k], HSTS_FIELDS[k]) for k in hsts):
                raise ApiError(400, 1007, "Invalid value for zone setting security_header")
            return {"strict_transport_security": dict(current["strict_transport_security"], **hsts)}
        allowed = ENUMS.get(sid, ("on", "off") if current in ("on", "off") else None)
        if allowed is not None and value not in allowed:
            raise ApiError(400, 1007, "Invalid value for zone setting %s" % sid)
        return value

    def edit_setting(self, request, zone, setting, **_):
        self._zone(zone)
        body = _json_body(request)
        if "value" not in body:
            raise ApiError(400, 1007, "Invalid value for zone setting %s" % setting)
        value = self._check_setting(zone, setting, body["value"])
        entry = self.data["settings"][zone][setting]
        entry.update(value=value, modified_on=_now())
        return dict(entry), None

    def edit_settings(self, request, zone, **_):
        """Bulk edit: every item is checked before any is applied."""
        self._zone(zone)
        if not self.config["bulk_settings"]:
            raise ApiError(405, 10405, "Method not allowed for this endpoint")
        items = _json_body(request).get("items")
        if not isinstance(items, list) or not items:
            raise ApiError(400, 1007, "Invalid value for zone settings: items required")
        checked = [(item.get("id"), self._check_setting(zone, item.get("id"), item.get("value"))) for item in items]
        stamp = _now()
        for sid, value in checked:
            self.data["settings"][zone][sid].update(value=value, modified_on=stamp)
        return [dict(self.data["settings"][zone][sid]) for sid, value in checked], None

    # -- DNS records -------------------------------------------------------------
    def _records(self, zone):
        """The zone's records, created on first write (a read never changes the state)."""
        self._zone(zone)
        return self.data["dns_records"].setdefault(zone, {})

    def list_records(self, request, zone, **_):
        self._zone(zone)
        records = sorted(self.data["dns_records"].get(zone, {}).values(), key=lambda r: (r["name"], r["type"], r["id"]))
        for field in ("type", "name", "content"):
            if request.query.get(field):
                wanted = request.query[field].lower() if field == "name" else request.query[field]
                records = [r for r in records if r[field] == wanted]
        return _page(request, records, default=100, maximum=5000000)

    def _validated_record(self, zone, body, existing=None):
        record = dict(existing or {})
        record.update({k: body[k] for k in ("type", "name", "content", "proxied", "ttl", "comment") if k in body})
        zone_name = self.data["zones"][zone]["name"]
        name = str(record.get("name", "")).lower().rstrip(".")
        name = zone_name if name in ("@", "") else name
        if not (name == zone_name or name.endswith("." + zone_name)):
            name = "%s.%s" % (name, zone_name)
        record["name"] = name
        kind, content = record.get("type"), record.get("content")
        try:
            if kind == "A":
                ipaddress.IPv4Address(content)
            elif kind == "AAAA":
                ipaddress.IPv6Address(content)
            elif kind != "CNAME":
                raise ApiError(400, 1004, "DNS Validation Error: unsupported type %s" % kind)
        except ValueError:
            raise ApiError(400, 9005, "Content for %s record is invalid." % kind)
        record.setdefault("proxied", False)
        record.setdefault("ttl", 1)
        record.setdefault("comment", None)
        if record["proxied"]:
            record["ttl"] = 1
        elif record["ttl"] != 1 and not 60 <= int(record["ttl"]) <= 86400:
            raise ApiError(400, 9021, "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic.")
        for other in self.data["dns_records"].get(zone, {}).values():
            if other["id"] != record.get("id") and other["name"] == name and \
                    (kind == "CNAME" or other["type"] == "CNAME"):
                raise ApiError(400, 81053, "A CNAME record with that host already exists or conflicts.")
        record["proxiable"] = True
        record["modified_on"] = _now()
        record.setdefault("created_on", record["modified_on"])
        record.setdefault("zone_id", zone)
        record.setdefault("zone_name", zone_name)
        return record

    def create_record(self, request, zone, **_):
        record = self._validated_record(zone, _json_body(request))
        record["id"] = secrets.token_hex(16)
        self._records(zone)[record["id"]] = record
        return dict(record), None

    def _record(self, zone, record):
        self._zone(zone)
        records = self.data["dns_records"].get(zone, {})
        if record not in records:
            raise ApiError(404, 81044, "Record does not exist.")
        return records[record]

    def get_record(self, request, zone, record, **_):
        return dict(self._record(zone, record)), None

    def put_record(self, request, zone, record, **_):
        existing = self._record(zone, record)
        body = _json_body(request)
        updated = self._validated_record(zone, body, {"id": existing["id"], "created_on": existing["created_on"]})
        self._records(zone)[record] = updated
        return dict(updated), None

    def patch_record(self, request, zone, record, **_):
        existing = self._record(zone, record)
        updated = self._validated_record(zone, _json_body(request), existing)
        self._records(zone)[record] = updated
        return dict(updated), None

    def delete_record(self, request, zone, record, **_):
        self._record(zone, record)
        del self._records(zone)[record]
        return {"id": record}, None

    # -- Origin CA -----------------------------------------------------------------
    def list_certificates(self, request, **_):
        zone = request.query.get("zone_id")
        if not zone:
            raise ApiError(400, 1100, "zone_id is required")
        zone_name = self._zone(zone)["name"]
        certs = [c for c in self.data["certificates"].values() if not c.get("revoked_at")
                 and all(h.lstrip("*.") == zone_name or h.endswith("." + zone_name) for h in c["hostnames"])]
        return _page(request, sorted(certs, key=lambda c: c["id"]), default=50, maximum=50)

    def create_certificate(self, request, **_):
        body = _json_body(request)
        hostnames = body.get("hostnames") or []
        if not hostnames or not all(isinstance(h, str) for h in hostnames):
            raise ApiError(400, 1101, "hostnames are required")
        zone_names = [z["name"] for z in self.data["zones"].values()]
        for host in hostnames:
            bare = host[2:] if host.startswith("*.") else host
            if "*" in bare or not any(bare == z or bare.endswith("." + z) for z in zone_names):
                raise ApiError(400, 1102, "Hostname %s is not in a zone on this account" % host)
        validity = body.get("requested_validity", 5475)
        if validity not in VALIDITY_DAYS:
            raise ApiError(400, 1103, "requested_validity must be one of %s" % ", ".join(map(str, VALIDITY_DAYS)))
        request_type = body.get("request_type")
        if request_type not in ("origin-rsa", "origin-ecc"):
            raise ApiError(400, 1104, "request_type must be origin-rsa or origin-ecc")
        cert = self.origin_ca.sign(body.get("csr", ""), hostnames, validity, request_type)
        self.data["certificates"][cert["id"]] = cert
        return dict(cert), None

    def get_certificate(self, request, cert, **_):
        if cert not in self.data["certificates"]:
            raise ApiError(404, 1001, "Certificate not found")
        return dict(self.data["certificates"][cert]), None

    def revoke_certificate(self, request, cert, **_):
        entry = self.data["certificates"].get(cert)
        if entry is None or entry.get("revoked_at"):
            raise ApiError(404, 1001, "Certificate not found")
        entry["revoked_at"] = _now()
        return {"id": cert, "revoked_at": entry["revoked_at"]}, None

    # -- IP ranges ---------------------------------------------------------------------
    def ips(self, request, **_):
        return dict(self.data["ips"]), None


def _json_body(request):
    try:
        body = json.loads(request.raw_body or b"{}")
    except ValueError:
        raise ApiError(400, 6007, "Malformed JSON in request body")
    if not isinstance(body, dict):
        raise ApiError(400, 6007, "Malformed JSON in request body")
    return body


def _page(request, items, default, maximum):
    try:
        page = max(1, int(request.query.get("page", 1)))
        per_page = min(maximum, max(1, int(request.query.get("per_page", default))))
    except ValueError:
        raise ApiError(400, 1001, "page and per_page must be numbers")
    start = (page - 1) * per_page
    chunk = [dict(i) for i in items[start:start + per_page]]
    total_pages = max(1, -(-len(items) // per_page))
    info = {"page": page, "per_page": per_page, "count": len(chunk), "total_count": len(items),
            "total_pages": total_pages}
    return chunk, info


def _ok(result, info=None):
    body = {"success": True, "errors": [], "messages": [], "result": result}
    if info is not None:
        body["result_info"] = info
    response = Response(body=compact_json(body))
    response.outcome = "ok"
    return response


def _error(exc, headers=None):
    error = {"code": exc.code, "message": exc.message}
    if exc.chain:
        error["error_chain"] = exc.chain
    response = Response(exc.status, compact_json({"success": False, "errors": [error], "messages": [],
                                                  "result": None}), headers=headers)
    response.outcome = exc.code
    return response
