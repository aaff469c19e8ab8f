#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dsm_firewall
short_description: DSM's firewall, its profile and ordered rule list, with lockout protection
version_added: 0.1.0
description:
  - Turns DSM's firewall on or off, and makes a profile's rules for one interface exactly the declared ordered
    list, with the action for traffic no rule matches.
  - Sources are validated and normalised with netaddr; a CIDR with host bits set (V(192.168.1.7/24)) is reported
    as an error rather than silently changed.
  - Lockout protection. Before applying, the new rules are evaluated first-match for the address the controller
    reaches DSM from and DSM's port; if that connection would be denied the task refuses, unless
    O(allow_lockout=true).
  - Reads the firewall state and the profile with one request.
author:
  - homelab.nas maintainers (@homelab-nas)
extends_documentation_fragment:
  - homelab.nas.dsm
  - homelab.nas.attributes
  - homelab.nas.attributes.full
options:
  enabled:
    description: Whether the firewall is on. Unset leaves it as it is.
    type: bool
  profile:
    description: Firewall profile to manage (and to make active when O(enabled=true)).
    type: str
    default: default
  interface:
    description: Interface the rules apply to; V(global) is "All interfaces".
    type: str
    default: global
  default_action:
    description: What happens to traffic no rule matches.
    type: str
    choices: [allow, deny]
    default: deny
  rules:
    description: The ordered rules; the first match decides.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Label of the rule.
        type: str
      action:
        description: V(allow) or V(deny).
        type: str
        default: allow
      ports:
        description:
          - Destination ports, ranges (V(5000-5001)), service names (V(dsm), V(dsm_https), V(https), V(http),
            V(ssh), V(webdav), V(smb), V(afp), V(ftp), V(rsync), V(synology_drive)) or V(all).
        type: list
        elements: str
        default: [all]
      protocol:
        description: V(tcp), V(udp), V(tcp_udp) or V(all).
        type: str
        default: tcp
      source:
        description: V(all), an address, a CIDR network or a range (V(192.168.1.10-192.168.1.20)); IPv4 or IPv6.
        type: str
        default: all
      enabled:
        description: Whether the rule is active.
        type: bool
        default: true
  controller_address:
    description:
      - Address DSM sees the controller's connections come from, for lockout protection. Defaults to the
        controller's own address on the route to DSM; set it when a NAT or proxy sits in between.
    type: str
  allow_lockout:
    description:
      - Apply rules even if they would block the controller's connection to DSM.
      - DSM stops answering the controller once such a profile is live, so the module does not wait for
        DSM's apply task to finish; it returns with a warning.
    type: bool
    default: false
notes:
  - The profile format is the one public clients observed on DSM 7.3 (C(SYNO.Core.Security.Firewall.Profile));
    rules are sent as custom ports, service names being expanded to their ports.
  - The firewall is turned on by applying the profile (C(Profile.Apply) C(start), C(status) with its task id,
    C(stop)) and turned off with C(SYNO.Core.Security.Firewall) C(set) C(set_type=disable), as DSM 7.3 does it.
"""

EXAMPLES = r"""
- name: Only HTTPS from Cloudflare, DSM from the LAN, nothing else
  homelab.nas.dsm_firewall:
    enabled: true
    default_action: deny
    rules:
      - name: lan
        ports: [dsm, https, smb]
        source: 192.168.1.0/24
      - name: cloudflare-https
        ports: [https]
        source: 173.245.48.0/20
      # ... one rule per Cloudflare range; the homelab.nas.hardening role builds them from cloudflare_ips_info.
"""

RETURN = r"""
firewall:
  description: Firewall state and the profile's rules after the task (planned values in check mode).
  returned: always
  type: dict
  sample: {enabled: true, profile: default, default_action: deny,
           rules: [{name: lan, action: allow, protocol: tcp, ports: "443,5000,5001", source: 192.168.1.0/24,
                    enabled: true}]}
lockout_check:
  description: How the new rules treat the controller's connection to DSM.
  returned: when the firewall is (or stays) enabled
  type: dict
  sample: {address: 192.168.1.5, port: 5001, action: allow, rule: lan}
"""

import time

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.homelab.nas.plugins.module_utils.dsm_errors import DsmError
from ansible_collections.homelab.nas.plugins.module_utils.dsm_module import DsmModule
from ansible_collections.homelab.nas.plugins.module_utils.net import local_address_towards
from ansible_collections.homelab.nas.plugins.module_utils import dsm_firewall_rules as fw
from ansible_collections.homelab.nas.plugins.module_utils import dsm_validate as v

FIREWALL = "SYNO.Core.Security.Firewall"
PROFILE = "SYNO.Core.Security.Firewall.Profile"
APPLY = "SYNO.Core.Security.Firewall.Profile.Apply"


def view(enabled, profile, body):
    return {"enabled": enabled, "profile": profile, "default_action": body.get("policy"),
            "rules": [fw.rule_from_dsm(r) for r in body.get("rules") or []]}


def read_profile(mod, raw):
    """The profile from Profile.get: bare as dsmctl saw it live on DSM 7.3, or nested under `profile`."""
    profile = raw.get("profile") if isinstance(raw.get("profile"), dict) else raw
    if isinstance(profile.get("rules"), dict) and "adapterPolicyMap" in profile:
        # The fwDB form batonogov's provider describes (not observed over HTTP); this module writes the other.
        mod.fail_json(msg="DSM answered firewall profile '%s' as {rules: {<interface>: [...]}, adapterPolicyMap}; "
                          "this module only knows the {<interface>: {policy, rules}} form DSM 7.3 answers"
                      % mod.params["profile"])
    return profile


def apply_profile(mod, client, name, locks_us_out=False):
    """Make a saved profile live (and the firewall on): Apply start, poll status with its task_id, stop.

    With locks_us_out (allow_lockout and rules that deny this controller) DSM stops answering this
    controller as soon as the profile is live, so nothing after start can be awaited."""
    if locks_us_out:
        try:
            client.write(APPLY, "start", 1, name=name, profile_applying=False)
        except DsmError as exc:
            if exc.code is not None:
                raise
            # The connection was cut: the firewall is already enforcing the new profile.
        mod.warn("firewall profile '%s' applied; DSM no longer answers this controller (allow_lockout), so the "
                 "apply task was not followed to its end" % name)
        return
    task = client.write(APPLY, "start", 1, name=name, profile_applying=False).get("task_id")
    if not task:
        return  # some DSM builds apply synchronously and hand out no task (batonogov's provider)
    for attempt in range(60):
        if client.read(APPLY, "status", 1, task_id=task).get("finish"):
            break
        time.sleep(min(1.0, 0.1 * (attempt + 1)))
    else:
        mod.fail_json(msg="DSM did not finish applying firewall profile '%s' within a minute" % name)
    client.write(APPLY, "stop", 1, task_id=task)


def run(mod, rules):
    p = mod.params
    client = mod.client
    state, raw_profile = client.batch([(FIREWALL, "get", 1, {}), (PROFILE, "get", 1, {"name": p["profile"]})])
    profile = read_profile(mod, raw_profile)
    current = profile.get(p["interface"]) or {"policy": "allow", "rules": []}
    was_enabled = bool(state.get("enable_firewall"))
    enabled = p["enabled"] if p["enabled"] is not None else was_enabled
    active = p["profile"] if p["enabled"] else state.get("profile_name")
    wanted = {"policy": p["default_action"], "rules": rules}
    before = view(was_enabled, state.get("profile_name"), current)
    after = view(enabled, active, wanted)
    result = dict(changed=before != after, firewall=after)
    if mod._diff:
        result["diff"] = dict(before=before, after=after)

    if enabled and active == p["profile"]:
        address = p["controller_address"] or local_address_towards(client.host)
        port = client.port
        action, rule = fw.first_match(rules, p["default_action"], address, port)
        result["lockout_check"] = dict(address=address, port=port, action=action, rule=rule)
        if action == "deny" and not p["allow_lockout"]:
            mod.fail_json(msg="refusing to apply: these rules would block this controller (%s) from DSM's port %d "
                              "(%s). Add a rule allowing it before the deny, set controller_address if DSM sees "
                              "another address, or set allow_lockout: true" % (
                                  address, port, "rule '%s'" % rule if rule else "default_action: deny"),
                          **dict(result, changed=False))
    if not result["changed"] or mod.check_mode:
        return result
    rules_changed = (current.get("policy"), current.get("rules") or []) != (wanted["policy"], rules)
    if rules_changed:
        # Profile.set only saves the profile (dsmctl, live on DSM 7.3); Profile.Apply makes it live.
        new_profile = dict(profile, name=p["profile"])
        new_profile[p["interface"]] = wanted
        client.write(PROFILE, "set", 1, profile=new_profile, profile_applying=False)
    if enabled and active == p["profile"] and (rules_changed or not was_enabled or before["profile"] != active):
        # Applying a profile is also how DSM turns the firewall on with it (dsmctl).
        apply_profile(mod, client, p["profile"],
                      locks_us_out=result.get("lockout_check", {}).get("action") == "deny")
    elif not enabled and was_enabled:
        # dsmctl's live-verified disable call.
        client.write(FIREWALL, "set", 1, set_type="disable")
    return result


def main():
    module = DsmModule(
        argument_spec=dict(
            enabled=dict(type="bool"),
            profile=dict(type="str", default="default"),
            interface=dict(type="str", default="global"),
            default_action=dict(type="str", default="deny", choices=["allow", "deny"]),
            rules=dict(type="list", elements="dict", default=[], options=dict(
                name=dict(type="str"),
                action=dict(type="str", default="allow"),
                ports=dict(type="list", elements="str", default=["all"]),
                protocol=dict(type="str", default="tcp"),
                source=dict(type="str", default="all"),
                enabled=dict(type="bool", default=True),
            )),
            controller_address=dict(type="str"),
            allow_lockout=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    if not v.HAS_NETADDR:
        module.fail_json(msg=missing_required_lib("netaddr"), exception=str(v.NETADDR_IMPORT_ERROR))
    try:
        rules = [fw.normalise_rule(i, r) for i, r in enumerate(module.params["rules"])]
        if module.params["controller_address"]:
            v.source("controller_address", module.params["controller_address"])
    except v.InputError as exc:
        module.fail_json(msg=str(exc))
    module.run(lambda mod: run(mod, rules))


if __name__ == "__main__":
    main()
