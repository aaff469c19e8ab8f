#!/usr/bin/python
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_dns_record
short_description: Manage an A, AAAA or CNAME record in a Cloudflare zone, proxied or not
version_added: 1.0.0
description:
  - Creates, updates or deletes one DNS record identified by its type and name.
  - Warns when a proxied record is meant for a port Cloudflare's proxy does not pass.
  - Tasks of one controller on one zone take turns (forks, overlapping runs). Outside check mode the task holds an
    exclusive lock from the lookup to the write, a file in E(HOMELAB_NAS_LOCK_DIR), by default
    C(~/.cache/homelab.nas/locks) on the host the module runs on. A create Cloudflare refuses as identical to a
    record made since the lookup (another controller) takes that record over.
author:
  - homelab.nas maintainers (@homelab-nas)
extends_documentation_fragment:
  - homelab.nas.cloudflare
  - homelab.nas.cloudflare.zone
  - homelab.nas.attributes
  - homelab.nas.attributes.full
options:
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
      - Address (A, AAAA) or target hostname (CNAME). Required with O(state=present).
      - A proxied record's address must be public; a private, loopback, link-local or carrier-grade NAT
        (V(100.64.0.0/10)) one is refused. An unproxied record may point at one (a LAN-only name), with a warning.
    type: str
  proxied:
    description: Send traffic through Cloudflare's proxy (hides the origin's address).
    type: bool
    default: true
  ttl:
    description: Seconds, or V(1) for automatic (proxied records are always automatic).
    type: int
    default: 1
  comment:
    description: Note stored with the record (after O(comment_prefix) when that is set).
    type: str
  comment_prefix:
    description:
      - Marks the record as this collection's, as in M(homelab.nas.cloudflare_dns_records) (V(homelab.nas) there).
        The comment is stored as C(<comment_prefix>) followed by a colon, a space and the comment (by default
        O(name)).
      - With it, several records of this type and name that all carry the mark are this one record (two controllers
        created it at once), so one is kept and the others are deleted (RV(duplicates)). Without it, or when one
        of them lacks the mark, several records stop the task before any write.
    type: str
  port:
    description:
      - Port visitors use on this hostname, checked against the ports Cloudflare's proxy passes
        (HTTP 80, 8080, 8880, 2052, 2082, 2086, 2095; HTTPS 443, 2053, 2083, 2087, 2096, 8443).
    type: int
  state:
    description: Whether the record should exist.
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: Proxied record for the NAS's public address
  homelab.nas.cloudflare_dns_record:
    zone: example.com
    name: photos
    content: "{{ router.external_address }}"
    proxied: true
    port: 443
    comment: managed by homelab.nas
"""

RETURN = r"""
record:
  description: The record after the task (planned values in check mode; absent when deleted).
  returned: when state=present
  type: dict
  sample: {id: 372e67954025e0ba6aaa6d586b9e0b59, type: A, name: photos.example.com, content: 100.128.77.2,
           proxied: true, ttl: 1, comment: managed by homelab.nas}
duplicates:
  description:
    - Records of this type and name that carried the mark of O(comment_prefix) beside the one kept, deleted (or to
      delete in check mode), as C(<type> <name> <id>). With O(state=absent) every such record is deleted.
  returned: always
  type: list
  elements: str
  sample: [A photos.example.com 9a7806061c88ada191ed06f989cc3dac]
"""

from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_dns import (
    CloudflareDns,
    check_port,
    duplicate_key,
    fqdn,
    one_record,
    wanted_record,
)
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_module import CloudflareModule
from ansible_collections.homelab.nas.plugins.module_utils.ownership import mark


def validate(module, p):
    """The record wanted (None for state=absent); no request before the input is known to be usable."""
    if p["state"] == "absent":
        check_port(p, module.warn)
        fqdn(p["name"], p["zone"])  # the name is checked before any request in either state
        return None
    wanted = wanted_record(p, p["zone"], module.warn)
    if p["comment_prefix"]:
        wanted["comment"] = mark(p["comment_prefix"], p["comment"] or p["name"])
    return wanted


def run(mod, wanted):
    # The lookup and the write as one step for this controller's tasks on the zone (forks, overlapping runs).
    with mod.zone_locked():
        return converge(mod, wanted)


def converge(mod, wanted):
    p = mod.params
    api = CloudflareDns(mod.client, mod.zone_id)
    name = fqdn(p["name"], p["zone"])
    matches = api.find(p["type"], name)
    # Several records carrying the mark are this one record (made twice at once); one without it stops the task.
    current, duplicates = one_record(matches, wanted or dict(type=p["type"], name=name), p["comment_prefix"])
    before = dict(current or {}, duplicates=duplicates) if duplicates else current or {}
    result = dict(duplicates=sorted(duplicate_key(r) for r in duplicates))

    def delete(records):
        for record in records:
            api.delete(record["id"])

    if wanted is None:
        return mod.converge(before, {}, lambda: delete(matches), result)
    after = dict(current or {"id": None}, **wanted)

    def apply():
        # The declared record first, then the duplicates: a failure part-way leaves one too many, never none.
        record = api.overwrite(current["id"], wanted) if current else api.create(wanted)
        delete(duplicates)
        return dict(record=record)

    # Both sides are view()s: only the managed fields count, a record differing elsewhere (tags...) is left alone.
    return mod.converge(before, after, apply, dict(result, record=after))


def main():
    module = CloudflareModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            type=dict(type="str", default="A", choices=["A", "AAAA", "CNAME"]),
            content=dict(type="str"),
            proxied=dict(type="bool", default=True),
            ttl=dict(type="int", default=1),
            comment=dict(type="str"),
            comment_prefix=dict(type="str"),
            port=dict(type="int"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        supports_check_mode=True,
    )
    module.run(run, validate=lambda params: validate(module, params))


if __name__ == "__main__":
    main()
