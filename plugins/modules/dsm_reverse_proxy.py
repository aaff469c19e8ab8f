#!/usr/bin/python
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dsm_reverse_proxy
short_description: Manage DSM's reverse proxy rules (Login Portal > Advanced > Reverse Proxy)
version_added: 1.0.0
description:
  - Creates, updates and deletes reverse proxy rules, one per O(rules) item, each identified by its frontend
    (protocol, hostname, port) or else its description.
  - With O(exclusive=true), rules on DSM that are not declared are deleted (the diff shows which); with
    O(description_prefix) set, only those whose description carries it, so rules made by hand stay.
  - Creates and updates are written before deletes.
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
        description:
          - Name of the rule in DSM. Defaults to the frontend hostname. Unique among O(rules) (after
            O(description_prefix)), since a rule is also found by its description; two alike are refused.
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
            description:
              - Hostname clients use (RFC 1123; a leading V(*.) wildcard is accepted; punycode for internationalised
                names). Compared with DSM's rules in lower case without a trailing dot.
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
            description: Header name, an HTTP token (RFC 9110 - letters, digits and C(!#$%&'*+-.^_`|~)).
            type: str
            required: true
          value:
            description:
              - Header value (nginx variables such as C($remote_addr) allowed). DSM writes it into its nginx
                configuration, so it must be one word of visible ASCII without C(;), C({), C(}), C(#), quotes or a
                backslash; anything else is refused before any request.
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
    description:
      - Delete rules on DSM that are not declared in O(rules) (with O(description_prefix), only those carrying it).
    type: bool
    default: false
  description_prefix:
    description:
      - "Marks the rules this task owns. Each declared rule's description is stored as
        C(<description_prefix>: <description>), and O(exclusive) deletes only undeclared rules whose description
        starts with C(<description_prefix>:)."
      - Unset, descriptions are stored as given and O(exclusive) deletes every undeclared rule.
    type: str
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

- name: Publish Synology Photos; remove other rules this collection made, keep those made by hand
  homelab.nas.dsm_reverse_proxy:
    rules:
      - description: photos
        frontend: {hostname: photos.example.com}
        backend: {port: 5080}
    description_prefix: homelab.nas
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

from ansible_collections.homelab.nas.plugins.module_utils import dsm_validate as v
from ansible_collections.homelab.nas.plugins.module_utils.dsm_module import DsmModule
from ansible_collections.homelab.nas.plugins.module_utils.dsm_reverse_proxy import (
    DsmReverseProxy,
    comparable,
    desired_entry,
    frontend_key,
)
from ansible_collections.homelab.nas.plugins.module_utils.ownership import is_ours, mark


def plan(params):
    """Validate every rule before DSM is contacted."""
    declared, seen, described = [], {}, {}
    for index, rule in enumerate(params["rules"]):
        entry = desired_entry(index, rule)
        entry["description"] = mark(params["description_prefix"], entry["description"])
        key = frontend_key(entry)
        if key in seen:
            raise v.InputError(
                "rules[%d]: frontend %s://%s:%s is already used by rules[%d]; one frontend can only "
                "proxy to one backend" % (index, rule["frontend"]["protocol"], key[1], key[2], seen[key])
            )
        seen[key] = index
        # A rule is also found by its description: two alike would take each other's rule on DSM, never settling.
        if entry["description"] in described:
            raise v.InputError(
                "rules[%d].description: '%s' is already the description of rules[%d]; give each rule its own"
                % (index, entry["description"], described[entry["description"]])
            )
        described[entry["description"]] = index
        declared.append((rule, entry))
    return declared


def run(mod, declared):
    api = DsmReverseProxy(mod.client)
    current = api.entries()
    profiles = api.access_profiles() if any(rule["access_control_profile"] for rule, entry in declared) else {}
    by_front = {frontend_key(e): e for e in current}
    by_description = {e.get("description"): e for e in current}
    creates, updates, deletes, matched, after = [], [], [], set(), []
    for rule, entry in declared:
        name = rule["access_control_profile"]
        if name:
            if name not in profiles:
                mod.fail_json(
                    msg="access_control_profile: '%s' does not exist on DSM; known profiles: %s"
                    % (name, ", ".join(sorted(profiles)) or "none")
                )
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
        prefix = mod.params["description_prefix"]
        deletes += [
            e for e in current if e["UUID"] not in matched and (not prefix or is_ours(e.get("description"), prefix))
        ]
    deleted_ids = {e["UUID"] for e in deletes}
    result = dict(
        deleted=sorted(e.get("description") or e["UUID"] for e in deletes), rules=[comparable(e) for e in after]
    )
    before = {e.get("description") or e["UUID"]: comparable(e) for e in current if e["UUID"] in matched | deleted_ids}
    return mod.converge(
        before, {e["description"]: comparable(e) for e in after}, lambda: api.apply(deletes, updates, creates), result
    )


def main():
    header = dict(name=dict(type="str", required=True), value=dict(type="str", required=True))
    module = DsmModule(
        argument_spec=dict(
            rules=dict(
                type="list",
                elements="dict",
                required=True,
                options=dict(
                    description=dict(type="str"),
                    frontend=dict(
                        type="dict",
                        required=True,
                        options=dict(
                            protocol=dict(type="str", default="https", choices=["https", "http"]),
                            hostname=dict(type="str", required=True),
                            port=dict(type="int", default=443),
                        ),
                    ),
                    backend=dict(
                        type="dict",
                        required=True,
                        options=dict(
                            protocol=dict(type="str", default="http", choices=["http", "https"]),
                            host=dict(type="str", default="localhost"),
                            port=dict(type="int", required=True),
                        ),
                    ),
                    hsts=dict(type="bool", default=True),
                    http2=dict(type="bool", default=True),
                    websocket=dict(type="bool", default=False),
                    custom_headers=dict(type="list", elements="dict", default=[], options=header),
                    timeouts=dict(
                        type="dict",
                        options=dict(
                            connect=dict(type="int", default=60),
                            read=dict(type="int", default=60),
                            send=dict(type="int", default=60),
                        ),
                    ),
                    access_control_profile=dict(type="str"),
                    state=dict(type="str", default="present", choices=["present", "absent"]),
                ),
            ),
            exclusive=dict(type="bool", default=False),
            description_prefix=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    module.run(run, validate=plan)


if __name__ == "__main__":
    main()
