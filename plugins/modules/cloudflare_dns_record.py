#!/usr/bin/python
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_dns_record
short_description: Manage an A, AAAA or CNAME record in a Cloudflare zone, proxied or not
version_added: 0.1.0
description:
  - Creates, updates or deletes one DNS record identified by its type and name.
  - Warns when a proxied record is meant for a port Cloudflare's proxy does not pass.
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
    description: Note stored with the record.
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
"""

from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_dns import (
    CloudflareDns,
    check_port,
    fqdn,
    wanted_record,
)
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_module import CloudflareModule


def validate(module, p):
    """The record wanted (None for state=absent); no request before the input is known to be usable."""
    if p["state"] == "absent":
        check_port(p, module.warn)
        fqdn(p["name"], p["zone"])  # the name is checked before any request in either state
        return None
    return wanted_record(p, p["zone"], module.warn)


def run(mod, wanted):
    p = mod.params
    api = CloudflareDns(mod.client, mod.zone_id)
    name = fqdn(p["name"], p["zone"])
    matches = api.find(p["type"], name)
    if len(matches) > 1:
        mod.fail_json(
            msg="%d %s records are named %s; this module manages one record per type and name"
            % (len(matches), p["type"], name)
        )
    current = matches[0] if matches else None
    if wanted is None:
        return mod.converge(current or {}, {}, lambda: api.delete(current["id"]))
    after = dict(current or {"id": None}, **wanted)

    def apply():
        return dict(record=api.overwrite(current["id"], wanted) if current else api.create(wanted))

    # Both sides are view()s: only the managed fields count, a record differing elsewhere (tags...) is left alone.
    return mod.converge(current or {}, after, apply, dict(record=after))


def main():
    module = CloudflareModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            type=dict(type="str", default="A", choices=["A", "AAAA", "CNAME"]),
            content=dict(type="str"),
            proxied=dict(type="bool", default=True),
            ttl=dict(type="int", default=1),
            comment=dict(type="str"),
            port=dict(type="int"),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        supports_check_mode=True,
    )
    module.run(run, validate=lambda params: validate(module, params))


if __name__ == "__main__":
    main()
