# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""Cloudflare DNS records of one zone (/zones/{zone_id}/dns_records): find, create, overwrite, delete."""

from __future__ import annotations

# The fields the module manages and compares.
FIELDS = ("type", "name", "content", "proxied", "ttl", "comment")


def fqdn(name, zone):
    """The record's full name: '@' or the zone is the apex, a relative name gets the zone appended."""
    name = name.strip().rstrip(".").lower()
    zone = zone.strip().rstrip(".").lower()
    if name in ("@", "", zone):
        return zone
    return name if name.endswith("." + zone) else "%s.%s" % (name, zone)


def view(record):
    return {k: record.get(k) for k in ("id",) + FIELDS}


class CloudflareDns:
    def __init__(self, client, zone_id):
        self.client = client
        self.path = "/zones/%s/dns_records" % zone_id

    def find(self, record_type, name):
        """Every record of that type and exact name, as view() shows them."""
        # name.exact is the documented filter (RecordListParams.name); the bare name= is the older form.
        return [view(r) for r in self.client.paginate(self.path, **{"type": record_type, "name.exact": name})]

    def create(self, record):
        return view(self.client.request("POST", self.path, body=record)["result"])

    def overwrite(self, record_id, record):
        """PUT: the record becomes exactly `record` (fields left out return to their defaults)."""
        return view(self.client.request("PUT", "%s/%s" % (self.path, record_id), body=record)["result"])

    def delete(self, record_id):
        self.client.request("DELETE", "%s/%s" % (self.path, record_id))
