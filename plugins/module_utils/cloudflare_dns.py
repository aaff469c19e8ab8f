# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""Cloudflare DNS records of one zone (/zones/{zone_id}/dns_records): find, create, overwrite, delete."""

from __future__ import annotations

import ipaddress

from ansible_collections.homelab.nas.plugins.module_utils import dsm_validate as v
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_client import CloudflareError
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_ports import PROXIED_PORTS, describe_https_ports
from ansible_collections.homelab.nas.plugins.module_utils.errors import HomelabInputError
from ansible_collections.homelab.nas.plugins.module_utils.ownership import is_ours

# The types the modules manage.
TYPES = ("A", "AAAA", "CNAME")
# The fields the module manages and compares.
FIELDS = ("type", "name", "content", "proxied", "ttl", "comment")
# Cloudflare's answer to a create identical (type, name, content) to an existing record.
IDENTICAL_RECORD = 81058


def fqdn(name, zone, where=""):
    """The record's full name (dsm_validate.record_name): '@' or the zone is the apex, one label is relative to
    the zone, a name with a dot must end in the zone; spaces, non-ASCII (write punycode) and other symbols are
    refused, naming `<where>name`."""
    return v.record_name("%sname" % where, name, zone)


def check_port(p, warn, where=""):
    """The visitors' port (option `port`): a port, and one Cloudflare's proxy passes if proxied (a warning)."""
    if p.get("port") is None:
        return
    v.port("%sport" % where, p["port"])
    if p["proxied"] and p["port"] not in PROXIED_PORTS:
        warn(
            "%sport %s is not one Cloudflare's proxy passes, so visitors cannot reach it through this "
            "proxied record; use %s, or set proxied: false and accept that the record reveals the "
            "origin's address" % (where, p["port"], describe_https_ports())
        )


def wanted_record(p, zone, warn, where=""):
    """The record `p` declares (module options: type, name, content, proxied, ttl, comment, port), checked
    before any request; `where` prefixes every field name in a message (`records[0].` for a list)."""
    check_port(p, warn, where)
    if not p.get("content"):
        raise HomelabInputError(
            "%scontent is required with state: present (the address or target of the record)" % where
        )
    try:
        address = None
        if p["type"] == "A":
            address = ipaddress.IPv4Address(p["content"])
        elif p["type"] == "AAAA":
            address = ipaddress.IPv6Address(p["content"])
    except ValueError:
        raise HomelabInputError(
            "%scontent: '%s' is not an IPv%s address, as a %s record needs"
            % (where, p["content"], 4 if p["type"] == "A" else 6, p["type"])
        )
    # Cloudflare refuses to proxy to a private or reserved address (1004 with 9003 chained); carrier-grade NAT
    # (100.64.0.0/10), loopback and link-local are not global either.
    if address is not None and p["proxied"] and not address.is_global:
        raise HomelabInputError(
            "%scontent: %s is not a public address (private, loopback, link-local, carrier-grade NAT or "
            "reserved), and Cloudflare's proxy only reaches public origins; use the router's public address or "
            "set proxied: false" % (where, p["content"])
        )
    if address is not None and not address.is_global:
        warn(
            "%scontent: %s is not a public address, so this unproxied record only works inside that network; "
            "use a public address if the name is meant for the internet" % (where, p["content"])
        )
    content = str(address) if address is not None else p["content"]
    if p["type"] == "CNAME":  # checked to a DNS name's grammar, kept as given
        v.dns_name("%scontent" % where, p["content"])
    if p["ttl"] != 1 and not 60 <= p["ttl"] <= 86400:
        raise HomelabInputError("%sttl: %s is out of range; use 1 (automatic) or 60-86400 seconds" % (where, p["ttl"]))
    return dict(
        type=p["type"],
        name=fqdn(p["name"], zone, where),
        content=content,
        proxied=p["proxied"],
        ttl=1 if p["proxied"] else p["ttl"],
        comment=p.get("comment"),
    )


def record_key(record):
    """How the modules identify a record: its type and full name."""
    return "%s %s" % (record["type"], v.name_key(record.get("name")))


def cannot_share_a_name(first_type, second_type):
    """Whether Cloudflare refuses records of these two types on one name (81053: a CNAME beside an A, AAAA or
    CNAME; 81054: an A or AAAA beside a CNAME), so one can only replace the other."""
    return "CNAME" in (first_type, second_type) and {first_type, second_type} <= set(TYPES)


def in_place_of(writes, deletes):
    """Pair a create with the record to delete that forbids it on its name (a CNAME replacing an A or AAAA, or the
    reverse): that record is overwritten instead (PUT takes the new type). Creating first is refused while the old
    record is there, and deleting first would leave the name unserved if the create then failed; one overwrite
    does neither. `writes` are [(existing record or None, declared record)]. -> (writes, the deletes left)."""
    left, planned = list(deletes), []
    for existing, record in writes:
        if existing is None:
            existing = next(
                (
                    r
                    for r in left
                    if v.name_key(r.get("name")) == v.name_key(record.get("name"))
                    and cannot_share_a_name(r["type"], record["type"])
                ),
                None,
            )
            if existing is not None:
                left.remove(existing)
        planned.append((existing, record))
    return planned, left


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

    def records(self, types=TYPES):
        """Every record of the zone of one of `types`, as view() shows them (one paginated list)."""
        return [view(r) for r in self.client.paginate(self.path) if r.get("type") in types]

    def create(self, record):
        """POST; when Cloudflare answers 81058 (an identical record: type, name and content), the record another
        controller made since the list is taken over as the list would have found it (overwritten, so it holds
        the declared fields and mark)."""
        try:
            return view(self.client.request("POST", self.path, body=record)["result"])
        except CloudflareError as exc:
            if IDENTICAL_RECORD not in exc.codes:
                raise
            same = [r for r in self.find(record["type"], record["name"]) if r.get("content") == record["content"]]
            if len(same) != 1:
                raise
            return same[0] if same[0] == dict(record, id=same[0]["id"]) else self.overwrite(same[0]["id"], record)

    def overwrite(self, record_id, record):
        """PUT: the record becomes exactly `record` (fields left out return to their defaults)."""
        return view(self.client.request("PUT", "%s/%s" % (self.path, record_id), body=record)["result"])

    def delete(self, record_id):
        self.client.request("DELETE", "%s/%s" % (self.path, record_id))


def one_record(matches, wanted, prefix):
    """The record kept for one declared type and name, and the duplicates to delete.

    Cloudflare lets several A/AAAA records share a name, so two controllers creating it at once leave two. When
    every match carries our mark (`prefix:`), they are one declared record: the one already as wanted (else any)
    is kept and the others are deleted, choosing by record id, never by list order, so that two controllers merging
    at once keep the same record instead of deleting each other's. A record without the mark is never deleted,
    so several matches with one of those among them stop the task (HomelabInputError) before any write."""
    if len(matches) <= 1:
        return (matches[0] if matches else None), []
    foreign = [r for r in matches if not is_ours(r.get("comment"), prefix)]
    if foreign and prefix:
        raise HomelabInputError(
            "%d %s records are named %s and %d of them do not carry the mark '%s:' (made by hand or by another "
            "program), which this collection never deletes; it manages one record per type and name: delete the "
            "extra records in Cloudflare, or start their comment with '%s:' to have them merged"
            % (len(matches), wanted["type"], wanted["name"], len(foreign), prefix, prefix)
        )
    if foreign:
        raise HomelabInputError(
            "%d %s records are named %s; this module manages one record per type and name: delete the extra "
            "records in Cloudflare, or set comment_prefix so that the ones it marks are merged"
            % (len(matches), wanted["type"], wanted["name"])
        )
    ordered = sorted(matches, key=lambda r: str(r.get("id")))
    keep = next((r for r in ordered if r == dict(wanted, id=r.get("id"))), ordered[0])
    return keep, [r for r in ordered if r is not keep]


def duplicate_key(record):
    """How a deleted duplicate is reported: `<type> <name> <id>`."""
    return "%s %s" % (record_key(record), record.get("id"))
