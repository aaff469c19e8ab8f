"""DNS records: list (paginated), create, get, replace (PUT), edit (PATCH), delete."""

from __future__ import annotations

import ipaddress
import secrets

from tests.lab.mock_cloudflare.errors import ApiError
from tests.lab.mock_cloudflare.envelope import json_body, page
from tests.lab.mock_cloudflare.settings import now

ZONE = r"/zones/(?P<zone>[0-9a-f]{32})"
RECORD = ZONE + r"/dns_records/(?P<record>[0-9a-f]{32})"


def routes(app):
    d = DnsRecords(app)
    return [
        ("GET", ZONE + "/dns_records", d.list_records, False),
        ("POST", ZONE + "/dns_records", d.create_record, True),
        ("GET", RECORD, d.get_record, False),
        ("PUT", RECORD, d.put_record, True),
        ("PATCH", RECORD, d.patch_record, True),
        ("DELETE", RECORD, d.delete_record, True),
    ]


class DnsRecords:
    def __init__(self, app):
        self.app = app

    def _records(self, zone):
        """The zone's records, created on first write (a read never changes the state)."""
        self.app.zone(zone)
        return self.app.data["dns_records"].setdefault(zone, {})

    def list_records(self, request, zone, **_):
        self.app.zone(zone)
        records = sorted(self.app.data["dns_records"].get(zone, {}).values(), key=lambda r: (r["name"], r["type"], r["id"]))
        for field in ("type", "name", "content"):
            if request.query.get(field):
                wanted = request.query[field].lower() if field == "name" else request.query[field]
                records = [r for r in records if r[field] == wanted]
        return page(request, records, default=100, maximum=5000000)

    def _validated_record(self, zone, body, existing=None):
        record = dict(existing or {})
        record.update({k: body[k] for k in ("type", "name", "content", "proxied", "ttl", "comment") if k in body})
        zone_name = self.app.data["zones"][zone]["name"]
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
        for other in self.app.data["dns_records"].get(zone, {}).values():
            if other["id"] != record.get("id") and other["name"] == name and \
                    (kind == "CNAME" or other["type"] == "CNAME"):
                raise ApiError(400, 81053, "A CNAME record with that host already exists or conflicts.")
        record["proxiable"] = True
        record["modified_on"] = now()
        record.setdefault("created_on", record["modified_on"])
        record.setdefault("zone_id", zone)
        record.setdefault("zone_name", zone_name)
        return record

    def create_record(self, request, zone, **_):
        record = self._validated_record(zone, json_body(request))
        record["id"] = secrets.token_hex(16)
        self._records(zone)[record["id"]] = record
        return dict(record), None

    def _record(self, zone, record):
        self.app.zone(zone)
        records = self.app.data["dns_records"].get(zone, {})
        if record not in records:
            raise ApiError(404, 81044, "Record does not exist.")
        return records[record]

    def get_record(self, request, zone, record, **_):
        return dict(self._record(zone, record)), None

    def put_record(self, request, zone, record, **_):
        existing = self._record(zone, record)
        body = json_body(request)
        updated = self._validated_record(zone, body, {"id": existing["id"], "created_on": existing["created_on"]})
        self._records(zone)[record] = updated
        return dict(updated), None

    def patch_record(self, request, zone, record, **_):
        existing = self._record(zone, record)
        updated = self._validated_record(zone, json_body(request), existing)
        self._records(zone)[record] = updated
        return dict(updated), None

    def delete_record(self, request, zone, record, **_):
        self._record(zone, record)
        del self._records(zone)[record]
        return {"id": record}, None
