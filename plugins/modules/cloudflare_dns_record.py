#!/usr/bin/python
# -*- coding: utf-8 -*-
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
    description: Record name, relative to the zone (V(nas), V(@) for the apex) or fully qualified.
    type: str
    required: true
  type:
    description: Record type.
    type: str
    choices: [A, AAAA, CNAME]
    default: A
  content:
    description: Address (A, AAAA) or target hostname (CNAME). Required with O(state=present).
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

import ipaddress

from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_module import CloudflareModule
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_ports import PROXIED_PORTS, describe_https_ports

FIELDS = ("type", "name", "content", "proxied", "ttl", "comment")


def fqdn(name, zone):
    name = name.strip().rstrip(".").lower()
    zone = zone.strip().rstrip(".").lower()
    if name in ("@", "", zone):
        return zone
    return name if name.endswith("." + zone) else "%s.%s" % (name, zone)


def validate(module):
    p = module.params
    if p["state"] == "present":
        if not p["content"]:
            module.fail_json(msg="content is required with state: present (the address or target of the record)")
        try:
            address = None
            if p["type"] == "A":
                address = ipaddress.IPv4Address(p["content"])
            elif p["type"] == "AAAA":
                address = ipaddress.IPv6Address(p["content"])
        except ValueError:
            module.fail_json(msg="content: '%s' is not an IPv%s address, as a %s record needs"
                                 % (p["content"], 4 if p["type"] == "A" else 6, p["type"]))
        # Cloudflare refuses to proxy to a private or reserved address (1004 with 9003 chained).
        if address is not None and p["proxied"] and not address.is_global:
            module.fail_json(msg="content: %s is not a public address, and Cloudflare's proxy only reaches public "
                                 "origins; use the router's public address or set proxied: false" % p["content"])
        if p["ttl"] != 1 and not 60 <= p["ttl"] <= 86400:
            module.fail_json(msg="ttl: %s is out of range; use 1 (automatic) or 60-86400 seconds" % p["ttl"])
    if p["port"] is not None:
        if not 1 <= p["port"] <= 65535:
            module.fail_json(msg="port: %s is not a port; use 1-65535" % p["port"])
        if p["proxied"] and p["port"] not in PROXIED_PORTS:
            module.warn("port %s is not one Cloudflare's proxy passes, so visitors cannot reach it through this "
                        "proxied record; use %s, or set proxied: false and accept that the record reveals the "
                        "origin's address" % (p["port"], describe_https_ports()))


def view(record):
    return {k: record.get(k) for k in ("id",) + FIELDS}


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
    validate(module)

    def body(mod):
        p = mod.params
        name = fqdn(p["name"], p["zone"])
        path = "/zones/%s/dns_records" % mod.zone_id
        # name.exact is the documented filter (RecordListParams.name); the bare name= is the older form.
        matches = mod.client.paginate(path, **{"type": p["type"], "name.exact": name})
        if len(matches) > 1:
            mod.fail_json(msg="%d %s records are named %s; this module manages one record per type and name"
                              % (len(matches), p["type"], name))
        current = view(matches[0]) if matches else None
        if p["state"] == "absent":
            result = dict(changed=current is not None)
            if mod._diff:
                result["diff"] = dict(before=current or {}, after={})
            if current and not mod.check_mode:
                mod.client.request("DELETE", "%s/%s" % (path, current["id"]))
            return result
        wanted = dict(type=p["type"], name=name, content=p["content"], proxied=p["proxied"],
                      ttl=1 if p["proxied"] else p["ttl"], comment=p["comment"])
        after = dict(current or {"id": None}, **wanted)
        changed = current is None or any(current.get(k) != wanted[k] for k in FIELDS)
        result = dict(changed=changed, record=after)
        if mod._diff:
            result["diff"] = dict(before=current or {}, after=after)
        if changed and not mod.check_mode:
            if current:
                record = mod.client.request("PUT", "%s/%s" % (path, current["id"]), body=wanted)["result"]
            else:
                record = mod.client.request("POST", path, body=wanted)["result"]
            result["record"] = view(record)
        return result

    module.run(body)


if __name__ == "__main__":
    main()
