#!/usr/bin/python
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_dns_records
short_description: Manage a set of A, AAAA and CNAME records in a Cloudflare zone, removing our undeclared ones
version_added: 1.0.0
description:
  - Creates or updates every record of O(records), each identified by its type and name, with one list call for
    the whole zone.
  - Each record's comment carries the mark O(comment_prefix) followed by a colon. With O(exclusive=true), records
    of the managed types whose comment carries that mark and that are not declared are deleted; records without
    it (made by hand or by another program) are never touched.
  - Creates and updates are written before deletes. Check mode and the diff show the records to delete.
  - With O(exclusive=true), a declared CNAME on a name where one of our undeclared A or AAAA records is (or a
    declared A or AAAA where our CNAME is) replaces that record in place, with one overwrite that changes its
    type. Cloudflare refuses the two types on one name, and the name is never without a record. The old record
    is listed in RV(deleted).
  - Several records of one declared type and name that all carry the mark (two controllers created it at once;
    Cloudflare keeps A and AAAA names unique only per content) are one record. The one already as declared, else
    the first listed, is kept and the others are deleted (RV(duplicates)). When one of them lacks the mark, the
    task fails before any write, naming the records to delete by hand.
  - Tasks of one controller on one zone take turns (forks, overlapping runs). Outside check mode the task holds an
    exclusive lock from the list to the last write, a file in E(HOMELAB_NAS_LOCK_DIR), by default
    C(~/.cache/homelab.nas/locks) on the host the module runs on.
author:
  - homelab.nas maintainers (@homelab-nas)
extends_documentation_fragment:
  - homelab.nas.cloudflare
  - homelab.nas.cloudflare.zone
  - homelab.nas.attributes
  - homelab.nas.attributes.full
options:
  records:
    description: The records.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Record name, V(@) for the apex, one label relative to the zone (V(nas)), or fully qualified (any name with
            a dot is, and must be in the zone; V(x.other.test) in zone V(example.test) is refused, not made
            V(x.other.test.example.test)). Compared in lower case without a trailing dot.
          - ASCII letters, digits, hyphens and underscores only, with a leading V(*.) for a wildcard; write an
            internationalised name in punycode. Anything else (a space, non-ASCII) is refused before any request.
        type: str
        required: true
      type:
        description: Record type.
        type: str
        choices: [A, AAAA, CNAME]
        default: A
      content:
        description:
          - Address (A, AAAA) or target hostname (CNAME).
          - A proxied record's address must be public; a private, loopback, link-local or carrier-grade NAT
            (V(100.64.0.0/10)) one is refused. An unproxied record may point at one (a LAN-only name), with a
            warning.
        type: str
        required: true
      proxied:
        description: Send traffic through Cloudflare's proxy (hides the origin's address).
        type: bool
        default: true
      ttl:
        description: Seconds, or V(1) for automatic (proxied records are always automatic).
        type: int
        default: 1
      comment:
        description:
          - "Note stored with the record, as C(<comment_prefix>: <comment>). Defaults to the record's name."
        type: str
      port:
        description:
          - Port visitors use on this hostname, checked against the ports Cloudflare's proxy passes
            (HTTP 80, 8080, 8880, 2052, 2082, 2086, 2095; HTTPS 443, 2053, 2083, 2087, 2096, 8443).
        type: int
  exclusive:
    description: Delete the records carrying O(comment_prefix) that are not declared in O(records).
    type: bool
    default: false
  comment_prefix:
    description: Marks the records this task owns (the start of their comment).
    type: str
    default: homelab.nas
"""

EXAMPLES = r"""
- name: Publish two hostnames; remove the other records this collection made
  homelab.nas.cloudflare_dns_records:
    zone: example.com
    records:
      - {name: photos, content: 203.0.113.7, port: 443}
      - {name: media, content: 203.0.113.7, port: 8443}
    exclusive: true
"""

RETURN = r"""
records:
  description: The declared records after the task (planned values in check mode).
  returned: always
  type: list
  elements: dict
  sample:
    - {id: 372e67954025e0ba6aaa6d586b9e0b59, type: A, name: photos.example.com, content: 203.0.113.7,
       proxied: true, ttl: 1, comment: "homelab.nas: photos"}
deleted:
  description:
    - The records deleted (or to delete in check mode), as C(<type> <name>), including one replaced in place by a
      record of another type on its name.
  returned: always
  type: list
  elements: str
  sample: [A media.example.com]
duplicates:
  description:
    - Records of a declared type and name that carried the mark beside the one kept, deleted (or to delete in
      check mode), as C(<type> <name> <id>).
  returned: always
  type: list
  elements: str
  sample: [A photos.example.com 9a7806061c88ada191ed06f989cc3dac]
"""

from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_dns import (
    TYPES,
    CloudflareDns,
    duplicate_key,
    in_place_of,
    one_record,
    record_key,
    wanted_record,
)
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_module import CloudflareModule
from ansible_collections.homelab.nas.plugins.module_utils.errors import HomelabInputError
from ansible_collections.homelab.nas.plugins.module_utils.ownership import mark, undeclared_ours


def validate(module, p):
    """Every declared record, checked and keyed, before any request."""
    wanted, seen = [], {}
    for index, item in enumerate(p["records"]):
        where = "records[%d]." % index
        record = wanted_record(item, p["zone"], module.warn, where)
        record["comment"] = mark(p["comment_prefix"], item["comment"] or item["name"])
        key = record_key(record)
        if key in seen:
            raise HomelabInputError(
                "records[%d]: %s is already declared by records[%d]; declare each type and name once"
                % (index, key, seen[key])
            )
        seen[key] = index
        wanted.append(record)
    return wanted


def run(mod, wanted):
    # The list, the plan and the writes as one step for this controller's tasks on the zone (forks, runs).
    with mod.zone_locked():
        return converge(mod, wanted)


def converge(mod, wanted):
    api = CloudflareDns(mod.client, mod.zone_id)
    prefix = mod.params["comment_prefix"]
    current = api.records(TYPES)
    by_key = {}
    for record in current:
        by_key.setdefault(record_key(record), []).append(record)
    writes, duplicates, before, after = [], [], {}, {}
    for record in wanted:
        key = record_key(record)
        existing, extra = one_record(by_key.get(key, []), record, prefix)  # or the task fails, before any write
        duplicates.extend(extra)
        if existing:
            before[key] = existing
        after[key] = dict(existing or {"id": None}, **record)
        if existing != after[key]:
            writes.append((existing, record))
    before.update((duplicate_key(r), r) for r in duplicates)
    deletes = []
    if mod.params["exclusive"]:
        deletes = undeclared_ours(current, after, record_key, lambda r: r.get("comment"), prefix)
    before.update((record_key(r), r) for r in deletes)
    # A CNAME replacing an A or AAAA of ours (or the reverse) overwrites it in place rather than create + delete.
    writes, remaining = in_place_of(writes, deletes)

    def apply():
        # Creates and updates first: a failure part-way leaves a record too many, never a declared one missing.
        done = {}
        for existing, record in writes:
            done[record_key(record)] = api.overwrite(existing["id"], record) if existing else api.create(record)
        for record in duplicates + remaining:
            api.delete(record["id"])
        return dict(records=[done.get(record_key(r), after[record_key(r)]) for r in wanted])

    result = dict(
        records=[after[record_key(r)] for r in wanted],
        deleted=sorted(record_key(r) for r in deletes),
        duplicates=sorted(duplicate_key(r) for r in duplicates),
    )
    # Both sides are view()s: only the managed fields count, a record differing elsewhere (tags...) is left alone.
    return mod.converge(before, after, apply, result)


def main():
    module = CloudflareModule(
        argument_spec=dict(
            records=dict(
                type="list",
                elements="dict",
                required=True,
                options=dict(
                    name=dict(type="str", required=True),
                    type=dict(type="str", default="A", choices=list(TYPES)),
                    content=dict(type="str", required=True),
                    proxied=dict(type="bool", default=True),
                    ttl=dict(type="int", default=1),
                    comment=dict(type="str"),
                    port=dict(type="int"),
                ),
            ),
            exclusive=dict(type="bool", default=False),
            comment_prefix=dict(type="str", default="homelab.nas"),
        ),
        supports_check_mode=True,
    )
    module.run(run, validate=lambda params: validate(module, params))


if __name__ == "__main__":
    main()
