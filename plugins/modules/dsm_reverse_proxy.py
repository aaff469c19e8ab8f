#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dsm_reverse_proxy
short_description: Manage DSM's reverse proxy rules (Login Portal > Advanced > Reverse Proxy)
version_added: 0.1.0
description:
  - Creates, updates and deletes reverse proxy rules, one per O(rules) item, each identified by its frontend
    (protocol, hostname, port) or else its description.
  - With O(exclusive=true), rules on DSM that are not declared are deleted (the diff shows which).
  - Reads every rule with one list call, whatever their number.
author:
  - homelab.nas maintainers (@homelab-nas)
extends_documentation_fragment:
  - homelab.nas.dsm
  - homelab.nas.attributes
  - homelab.nas.attributes.full
options:
  rules:
    description: The rules.
    type: list
    elements: dict
    required: true
    suboptions:
      description:
        description: Name of the rule in DSM. Defaults to the frontend hostname.
        type: str
      frontend:
        description: Where clients connect.
        type: dict
        required: true
        suboptions:
          protocol:
            description: V(https) or V(http).
            type: str
            choices: [https, http]
            default: https
          hostname:
            description: Hostname clients use (RFC 1123; a leading V(*.) wildcard is accepted).
            type: str
            required: true
          port:
            description: Port clients connect to.
            type: int
            default: 443
      backend:
        description: Where DSM forwards to.
        type: dict
        required: true
        suboptions:
          protocol:
            description: V(http) or V(https).
            type: str
            choices: [http, https]
            default: http
          host:
            description: Backend hostname or address.
            type: str
            default: localhost
          port:
            description: Backend port.
            type: int
            required: true
      hsts:
        description: Send HSTS on this HTTPS frontend.
        type: bool
        default: true
      http2:
        description:
          - Enable HTTP/2 on this HTTPS frontend (C(frontend.https.http2); the key is not confirmed on a real DSM).
        type: bool
        default: true
      websocket:
        description: Add the C(Upgrade)/C(Connection) headers WebSocket applications need.
        type: bool
        default: false
      custom_headers:
        description: Extra request headers for the backend.
        type: list
        elements: dict
        default: []
        suboptions:
          name:
            description: Header name.
            type: str
            required: true
          value:
            description: Header value (nginx variables such as C($remote_addr) allowed).
            type: str
            required: true
      timeouts:
        description: Proxy timeouts in seconds.
        type: dict
        suboptions:
          connect:
            description: Connection timeout.
            type: int
            default: 60
          read:
            description: Read timeout.
            type: int
            default: 60
          send:
            description: Send timeout.
            type: int
            default: 60
      access_control_profile:
        description: Name of a DSM access control profile limiting who may use the rule.
        type: str
      state:
        description: Whether this rule should exist.
        type: str
        choices: [present, absent]
        default: present
  exclusive:
    description: Delete rules on DSM that are not declared in O(rules).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Publish Synology Photos and DSM, and nothing else
  homelab.nas.dsm_reverse_proxy:
    rules:
      - frontend: {hostname: photos.example.com}
        backend: {port: 5080}
      - description: dsm
        frontend: {hostname: nas.example.com}
        backend: {protocol: https, port: 5001}
        websocket: true
    exclusive: true
"""

RETURN = r"""
rules:
  description:
    - The declared rules in DSM's entry form after the task (planned values in check mode); protocols are
      C(0) for HTTP and C(1) for HTTPS, C(acl) is the access control profile's id.
  returned: always
  type: list
  elements: dict
  sample:
    - description: photos
      frontend: {fqdn: photos.example.com, port: 443, protocol: 1, acl: null, https: {hsts: true, http2: true}}
      backend: {fqdn: localhost, port: 5080, protocol: 0}
      customize_headers: []
      proxy_connect_timeout: 60
      proxy_read_timeout: 60
      proxy_send_timeout: 60
      proxy_http_version: 1
      proxy_intercept_errors: false
deleted:
  description: Descriptions of the rules deleted (or to delete in check mode).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.homelab.nas.plugins.module_utils.dsm_module import DsmModule
from ansible_collections.homelab.nas.plugins.module_utils import dsm_validate as v

API = "SYNO.Core.AppPortal.ReverseProxy"
PROTOCOLS = {"http": 0, "https": 1}
WEBSOCKET_HEADERS = [{"name": "Upgrade", "value": "$http_upgrade"}, {"name": "Connection", "value": "$connection_upgrade"}]


def frontend_key(entry):
    front = entry["frontend"]
    return (front.get("protocol"), (front.get("fqdn") or "").lower(), front.get("port"))


def desired_entry(index, rule):
    """A declared rule as DSM's entry JSON (the acl profile is resolved later)."""
    where = "rules[%d]" % index
    front, back = rule["frontend"], rule["backend"]
    fqdn = v.hostname("%s.frontend.hostname" % where, front["hostname"], wildcard=True)
    headers = [{"name": h["name"], "value": h["value"]} for h in rule["custom_headers"]]
    if rule["websocket"]:
        headers = [h for h in headers if h["name"].lower() not in ("upgrade", "connection")] + WEBSOCKET_HEADERS
    timeouts = rule["timeouts"] or {"connect": 60, "read": 60, "send": 60}
    for name, seconds in timeouts.items():
        if not 1 <= seconds <= 86400:
            raise v.InputError("%s.timeouts.%s: %s is out of range; use 1-86400 seconds" % (where, name, seconds))
    https = {"hsts": rule["hsts"], "http2": rule["http2"]} if front["protocol"] == "https" else {}
    return {
        "description": rule["description"] or fqdn,
        "frontend": {"fqdn": fqdn, "port": v.port("%s.frontend.port" % where, front["port"]),
                     "protocol": PROTOCOLS[front["protocol"]], "acl": None, "https": https},
        "backend": {"fqdn": v.hostname("%s.backend.host" % where, back["host"]),
                    "port": v.port("%s.backend.port" % where, back["port"]), "protocol": PROTOCOLS[back["protocol"]]},
        "customize_headers": headers,
        "proxy_connect_timeout": timeouts["connect"], "proxy_read_timeout": timeouts["read"],
        "proxy_send_timeout": timeouts["send"], "proxy_http_version": 1, "proxy_intercept_errors": False,
    }


def comparable(entry):
    """The fields this module manages, as DSM stores them."""
    front = entry.get("frontend") or {}
    https = front.get("https") or {}
    return {
        "description": entry.get("description"),
        "frontend": {"fqdn": (front.get("fqdn") or "").lower(), "port": front.get("port"),
                     "protocol": front.get("protocol"), "acl": front.get("acl") or None,
                     "https": {"hsts": bool(https.get("hsts")), "http2": bool(https.get("http2"))}
                     if front.get("protocol") == 1 else {}},
        "backend": {k: (entry.get("backend") or {}).get(k) for k in ("fqdn", "port", "protocol")},
        "customize_headers": [{"name": h.get("name"), "value": h.get("value")} for h in entry.get("customize_headers") or []],
        "proxy_connect_timeout": entry.get("proxy_connect_timeout"),
        "proxy_read_timeout": entry.get("proxy_read_timeout"),
        "proxy_send_timeout": entry.get("proxy_send_timeout"),
        "proxy_http_version": entry.get("proxy_http_version"),
        "proxy_intercept_errors": bool(entry.get("proxy_intercept_errors")),
    }


def plan(module):
    """Validate every rule before DSM is contacted."""
    declared, seen = [], {}
    for index, rule in enumerate(module.params["rules"]):
        try:
            entry = desired_entry(index, rule)
        except v.InputError as exc:
            module.fail_json(msg=str(exc))
        key = frontend_key(entry)
        if key in seen:
            module.fail_json(msg="rules[%d]: frontend %s://%s:%s is already used by rules[%d]; one frontend can only "
                                 "proxy to one backend" % (index, rule["frontend"]["protocol"], key[1], key[2], seen[key]))
        seen[key] = index
        declared.append((rule, entry))
    return declared


def run(mod, declared):
    client = mod.client
    current = client.read(API, "list", 1).get("entries") or []
    profiles = {}
    if any(rule["access_control_profile"] for rule, entry in declared):
        profiles = {p["name"]: p["UUID"] for p in client.read("SYNO.Core.AppPortal.AccessControl", "list", 1)
                    .get("entries") or []}
    by_front = {frontend_key(e): e for e in current}
    by_description = {e.get("description"): e for e in current}
    creates, updates, deletes, matched, after = [], [], [], set(), []
    for rule, entry in declared:
        name = rule["access_control_profile"]
        if name:
            if name not in profiles:
                mod.fail_json(msg="access_control_profile: '%s' does not exist on DSM; known profiles: %s"
                                  % (name, ", ".join(sorted(profiles)) or "none"))
            entry["frontend"]["acl"] = profiles[name]
        existing = by_front.get(frontend_key(entry)) or by_description.get(entry["description"])
        if existing:
            matched.add(existing["UUID"])
        if rule["state"] == "absent":
            if existing:
                deletes.append(existing)
            continue
        after.append(entry)
        if existing is None:
            creates.append(entry)
        elif comparable(existing) != comparable(entry):
            updates.append((existing, entry))
    if mod.params["exclusive"]:
        deletes += [e for e in current if e["UUID"] not in matched]
    deleted_ids = {e["UUID"] for e in deletes}
    result = dict(changed=bool(creates or updates or deletes), deleted=sorted(e.get("description") or e["UUID"]
                                                                              for e in deletes),
                  rules=[comparable(e) for e in after])
    if mod._diff:
        result["diff"] = dict(
            before={e.get("description") or e["UUID"]: comparable(e) for e in current
                    if e["UUID"] in matched | deleted_ids},
            after={e["description"]: comparable(e) for e in after})
    if result["changed"] and not mod.check_mode:
        if deletes:
            client.write(API, "delete", 1, uuids=sorted(deleted_ids))
        for existing, entry in updates:
            client.write(API, "update", 1, entry=dict(existing, **entry))
        for entry in creates:
            client.write(API, "create", 1, entry=entry)
    return result


def main():
    header = dict(name=dict(type="str", required=True), value=dict(type="str", required=True))
    module = DsmModule(
        argument_spec=dict(
            rules=dict(type="list", elements="dict", required=True, options=dict(
                description=dict(type="str"),
                frontend=dict(type="dict", required=True, options=dict(
                    protocol=dict(type="str", default="https", choices=["https", "http"]),
                    hostname=dict(type="str", required=True),
                    port=dict(type="int", default=443))),
                backend=dict(type="dict", required=True, options=dict(
                    protocol=dict(type="str", default="http", choices=["http", "https"]),
                    host=dict(type="str", default="localhost"),
                    port=dict(type="int", required=True))),
                hsts=dict(type="bool", default=True),
                http2=dict(type="bool", default=True),
                websocket=dict(type="bool", default=False),
                custom_headers=dict(type="list", elements="dict", default=[], options=header),
                timeouts=dict(type="dict", options=dict(connect=dict(type="int", default=60),
                                                        read=dict(type="int", default=60),
                                                        send=dict(type="int", default=60))),
                access_control_profile=dict(type="str"),
                state=dict(type="str", default="present", choices=["present", "absent"]),
            )),
            exclusive=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    declared = plan(module)
    module.run(lambda mod: run(mod, declared))


if __name__ == "__main__":
    main()
