"""DNS records: list (filtered, ordered, paginated), create, get, replace (PUT), edit (PATCH), delete.

The record object is cloudflare-python 5.9's RecordResponse (`id, name, type, content, proxiable, proxied,
ttl, comment, tags, settings, meta, created_on, modified_on`, `comment_modified_on`/`tags_modified_on`
once set, `data` and `priority` where the type has them); it has no `zone_id`/`zone_name`.
Conflicts as Cloudflare answers them: 81058 for an identical record (type, name, content), 81053 for a
CNAME where an A, AAAA or CNAME record already has the name, 81054 for an A/AAAA where a CNAME has it.
"""

from __future__ import annotations

import re
import secrets

from tests.lab.mock_cloudflare import challenges, dns_filters, dns_types
from tests.lab.mock_cloudflare.envelope import json_body, page
from tests.lab.mock_cloudflare.errors import ApiError
from tests.lab.mock_cloudflare.settings import now

ZONE = r"/zones/(?P<zone>[0-9a-f]{32})"
RECORD = ZONE + r"/dns_records/(?P<record>[0-9a-f]{32})"
FIELDS = ("type", "name", "content", "data", "priority", "proxied", "ttl", "comment", "tags", "settings")
# RecordTags: "name:value", the name of letters, digits, underscores and hyphens.
TAG = re.compile(r"[A-Za-z0-9_-]+:.*")


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
        records = dns_filters.apply(list(self.app.data["dns_records"].get(zone, {}).values()), request.query)
        return page(request, records, default=100, maximum=5000000)

    def _full_name(self, zone, name):
        zone_name = self.app.data["zones"][zone]["name"]
        name = str(name or "").strip().lower().rstrip(".")
        if name in ("@", ""):
            return zone_name
        return name if name == zone_name or name.endswith("." + zone_name) else "%s.%s" % (name, zone_name)

    def _validated(self, zone, fields, existing=None):
        """The record `fields` describe (merged over `existing` for PATCH), checked as Cloudflare checks it."""
        record = dict(existing or {})
        record.update({k: fields[k] for k in FIELDS if k in fields})
        kind = str(record.get("type") or "").upper()
        if kind not in dns_types.TYPES:
            raise dns_types.invalid("type '%s' is not one of %s" % (record.get("type"), ", ".join(dns_types.TYPES)))
        record["type"] = kind
        if not record.get("name"):
            raise dns_types.invalid("name is required")
        record["name"] = self._full_name(zone, record["name"])
        if kind in dns_types.NEEDS_PRIORITY and record.get("priority") is not None:  # other types ignore it
            record["priority"] = dns_types.number(kind, "priority", record["priority"], 65535)
        if kind in dns_types.DATA_FIELDS:
            record["data"], record["content"] = dns_types.check_data(kind, record.get("data"))
        else:
            record.pop("data", None)
            record["content"] = dns_types.check_content(kind, record.get("content"), record.get("priority"))
        if kind not in dns_types.NEEDS_PRIORITY:
            record.pop("priority", None)
        record["proxied"] = bool(record.get("proxied", False))
        if record["proxied"] and kind not in dns_types.PROXIABLE:
            raise dns_types.invalid("This record type cannot be proxied.", 9004)
        if record["proxied"] and not dns_types.proxiable(kind, record["content"]):
            raise dns_types.invalid("Target %s is not allowed for a proxied record." % record["content"], 9003)
        ttl = record.get("ttl", 1)
        if record["proxied"]:
            ttl = 1  # proxied records always have automatic TTL
        elif not isinstance(ttl, (int, float)) or ttl != 1 and not 60 <= ttl <= 86400:
            raise ApiError(400, 9021, "Invalid TTL. Must be between 60 and 86400 seconds, or 1 for Automatic.")
        record["ttl"] = int(ttl)
        tags = record.get("tags") or []
        if not isinstance(tags, list) or not all(isinstance(t, str) and TAG.fullmatch(t) for t in tags):
            raise dns_types.invalid("tags must be a list of name:value strings")
        stamp = now()
        if existing is None or existing.get("comment") != record.get("comment"):
            record["comment_modified_on"] = stamp if record.get("comment") else None
        if existing is None or existing.get("tags") != tags:
            record["tags_modified_on"] = stamp if tags else None
        record["comment"] = record.get("comment") or None
        record["tags"] = tags
        record["settings"] = record.get("settings") if isinstance(record.get("settings"), dict) else {}
        record["meta"] = {}
        record["proxiable"] = dns_types.proxiable(kind, record["content"])
        record["modified_on"] = stamp
        record.setdefault("created_on", stamp)
        for key in ("comment_modified_on", "tags_modified_on"):
            if record.get(key) is None:
                record.pop(key, None)
        self._check_conflicts(zone, record)
        return record

    def _check_conflicts(self, zone, record):
        for other in self.app.data["dns_records"].get(zone, {}).values():
            if other["id"] == record.get("id") or other["name"] != record["name"]:
                continue
            if (other["type"], other["content"], other.get("priority")) == \
                    (record["type"], record["content"], record.get("priority")):
                raise ApiError(400, 81058, "An identical record already exists.")
            if record["type"] == "CNAME" and other["type"] in ("A", "AAAA", "CNAME"):
                raise ApiError(400, 81053, "An A, AAAA, or CNAME record with that host already exists.")
            if record["type"] in ("A", "AAAA") and other["type"] == "CNAME":
                raise ApiError(400, 81054, "A CNAME record with that host already exists.")

    def _write(self, zone, names, change):
        """Apply `change` to the zone's records, then mirror `names` to challtestsrv; undone if that fails."""
        records = self._records(zone)
        before = dict(records)
        change(records)
        try:
            challenges.publish(self.app.config.get("challtestsrv_url"), list(records.values()), names)
        except ApiError:
            records.clear()
            records.update(before)
            raise

    def create_record(self, request, zone, **_):
        record = self._validated(zone, json_body(request))
        record["id"] = secrets.token_hex(16)
        self._write(zone, [record["name"]], lambda records: records.__setitem__(record["id"], record))
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
        """Overwrite: fields the body leaves out take their defaults again."""
        existing = self._record(zone, record)
        keep = {k: existing[k] for k in ("id", "created_on", "comment_modified_on", "tags_modified_on")
                if k in existing}
        fields = json_body(request)
        for key in ("comment", "tags"):  # so that *_modified_on moves only when they change
            keep[key] = existing.get(key)
            fields.setdefault(key, None if key == "comment" else [])
        updated = self._validated(zone, fields, keep)
        self._write(zone, [existing["name"], updated["name"]], lambda records: records.__setitem__(record, updated))
        return dict(updated), None

    def patch_record(self, request, zone, record, **_):
        existing = self._record(zone, record)
        updated = self._validated(zone, json_body(request), existing)
        self._write(zone, [existing["name"], updated["name"]], lambda records: records.__setitem__(record, updated))
        return dict(updated), None

    def delete_record(self, request, zone, record, **_):
        gone = self._record(zone, record)
        self._write(zone, [gone["name"]], lambda records: records.pop(record))
        return {"id": record}, None
