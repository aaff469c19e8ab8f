#!/usr/bin/python
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dsm_firewall
short_description: DSM's firewall, its profile and ordered rule list, with lockout protection
version_added: 1.0.0
description:
  - Turns DSM's firewall on or off, and makes a profile's rules for one interface exactly the declared ordered
    list, with the action for traffic no rule matches.
  - Sources are validated and normalised with netaddr; a CIDR with host bits set (V(192.168.1.7/24)) is reported
    as an error rather than silently changed.
  - Lockout protection. Before any write, the whole profile as it will be (the rules of All interfaces, then the
    interface's, first match, then the default action) is evaluated for the address the controller reaches DSM
    from and the port DSM receives it on (O(controller_address), O(controller_port), O(controller_interface));
    if that connection would be denied the task refuses, naming the rule and the fix, unless
    O(allow_lockout=true).
  - Reads the firewall state and the profile with one request.
  - Saved but not in force. DSM saves a profile (C(Profile.set)) and makes it live (C(Profile.Apply)) in separate
    calls, and no public client or probe shows a read of the rules in force; a failed apply leaves the new rules
    saved and the old ones live. So the module keeps, next to the session cache (O(session_cache_dir), a file
    per DSM, profile and interface), the digest of the rules it last saw in force, written before it saves and
    after the apply finished. When the saved rules differ from that record (the last apply did not finish),
    the profile is applied again and the task reports a change (C(in_force) of RV(firewall) false before).
    Without a record (another controller, or rules last set by hand) the saved rules are taken as in force.
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
    description:
      - Interface the rules apply to; V(global) is "All interfaces". Any other name must be one DSM uses (V(eth0),
        V(bond0), V(ovs_eth0), V(pppoe)...); an unknown name is refused before any request.
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
        description:
          - V(all), an address, a CIDR network or a range (V(192.168.1.10-192.168.1.20)); IPv4 or IPv6.
          - A network or range wider than /8 (IPv4) or /16 (IPv6) outside private address space is refused; write
            V(all) when every address is meant.
        type: str
        default: all
      enabled:
        description: Whether the rule is active.
        type: bool
        default: true
  controller_address:
    description:
      - Address DSM sees the controller's connections come from, for lockout protection. Defaults to the
        source address of a TCP connection to O(host) and O(port) made as the DSM client makes them (so of
        the address family, IPv4 or IPv6, the client actually uses); set it when a NAT or proxy sits in between.
    type: str
  controller_port:
    description:
      - Port DSM receives the controller's connections on, for lockout protection (DSM's own HTTPS or HTTP
        port). Defaults to O(port); set it when a port translation (a router's forward from another port, a
        proxy) sits between the controller and DSM.
    type: int
  controller_interface:
    description:
      - DSM interface the controller's connections arrive on (V(eth0), V(bond0), V(ovs_eth0)...), for lockout
        protection. Unset, the rules must let the controller through on every interface, since DSM applies the
        rules of
        All interfaces (V(global)) first, then those of the interface the connection arrives on, then that
        interface's default action.
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
  description:
    - Firewall state and the profile's rules after the task (planned values in check mode).
    - C(in_force) is false in the diff's before when the saved rules are not the ones this controller last saw
      applied (an apply that did not finish); the module then applies them.
  returned: always
  type: dict
  sample: {enabled: true, profile: default, in_force: true, default_action: deny,
           rules: [{name: lan, action: allow, protocol: tcp, ports: "443,5000,5001", source: 192.168.1.0/24,
                    enabled: true}]}
lockout_check:
  description: How the new rules treat the controller's connection to DSM.
  returned: when the firewall is (or stays) enabled
  type: dict
  sample: {address: 192.168.1.5, port: 5001, action: allow, rule: lan, interface: global}
"""

from ansible_collections.homelab.nas.plugins.module_utils import dsm_firewall_rules as fw, dsm_validate as v
from ansible_collections.homelab.nas.plugins.module_utils.dsm_module import DsmModule
from ansible_collections.homelab.nas.plugins.module_utils.net import connection_source


def view(enabled, profile, table, in_force=True):
    return dict({"enabled": enabled, "profile": profile, "in_force": in_force}, **fw.table_view(table))


def validate(params):
    rules = [fw.normalise_rule(i, r) for i, r in enumerate(params["rules"])]
    if params["controller_address"]:
        group, _source = v.source("controller_address", params["controller_address"])
        if group != "ip":
            raise v.InputError(
                "controller_address: '%s' is not one address; give the address DSM sees the controller come from"
                % params["controller_address"]
            )
    if params["controller_port"] is not None:
        v.port("controller_port", params["controller_port"])
    v.interface("interface", params["interface"], allow_global=True)
    if params["controller_interface"]:
        v.interface("controller_interface", params["controller_interface"])
    return rules


def run(mod, rules):
    p = mod.params
    api = fw.DsmFirewall(mod.client)
    was_enabled, was_active, profile = api.read(p["profile"])
    current = fw.table_of(profile, p["interface"])
    enabled = p["enabled"] if p["enabled"] is not None else was_enabled
    active = p["profile"] if p["enabled"] else was_active
    wanted = fw.table(p["default_action"], rules)
    # Saved but not in force: an earlier apply that did not finish (see AppliedRecord).
    record = fw.AppliedRecord(p["session_cache_dir"], mod.client.base_url, p["profile"], p["interface"])
    known = record.load()
    live = was_enabled and was_active == p["profile"]
    stale = live and known is not None and known != fw.table_digest(current)
    before = view(was_enabled, was_active, current, in_force=not stale)
    after = view(enabled, active, wanted)
    result = dict(firewall=after)

    if enabled and active == p["profile"]:
        address = p["controller_address"] or connection_source(mod.client.host, mod.client.port, mod.client.timeout)
        port = p["controller_port"] or mod.client.port
        whole = fw.with_table(profile, p["profile"], p["interface"], wanted)
        action, rule, table = fw.verdict(whole, address, port, p["controller_interface"])
        result["lockout_check"] = dict(address=address, port=port, action=action, rule=rule, interface=table)
        if action == "deny" and not p["allow_lockout"]:
            where = "rule '%s'" % rule if rule else "default_action: deny"
            if table != "global" or p["interface"] != "global":
                where += " of %s" % ("All interfaces" if table == "global" else "interface " + table)
            mod.fail_json(
                msg="refusing to apply: these rules would block this controller (%s, IPv%d) from DSM's port %d "
                "(%s). Add a rule allowing it before the deny (an IPv%d source; with the hardening role, its "
                "network in hardening_lan_networks or hardening_controller_address), set controller_address, "
                "controller_port (dsm_nas_port) or controller_interface if DSM sees another address, port or "
                "interface (NAT, port translation), or set allow_lockout: true"
                % (address, fw.family(address), port, where, fw.family(address)),
                **dict(result, changed=False),
            )

    def apply():
        # Until an apply finishes, what is in force is what was before (recorded first: see save_and_apply).
        finished = api.save_and_apply(
            p["profile"],
            p["default_action"],
            rules,
            profile,
            interface=p["interface"],
            record=record,
            in_force=known or (fw.table_digest(current) if live else fw.OFF),
            live=enabled and active == p["profile"],
            reapply=stale or not was_enabled or not live,
            locks_us_out=result.get("lockout_check", {}).get("action") == "deny",
        )
        if finished is False:
            mod.warn(
                "firewall profile '%s' applied; DSM no longer answers this controller (allow_lockout), so the "
                "apply task was not followed to its end" % p["profile"]
            )
        if not enabled and was_enabled:
            api.disable()

    return mod.converge(before, after, apply, result)


def main():
    module = DsmModule(
        argument_spec=dict(
            enabled=dict(type="bool"),
            profile=dict(type="str", default="default"),
            interface=dict(type="str", default="global"),
            default_action=dict(type="str", default="deny", choices=["allow", "deny"]),
            rules=dict(
                type="list",
                elements="dict",
                default=[],
                options=dict(
                    name=dict(type="str"),
                    action=dict(type="str", default="allow"),
                    ports=dict(type="list", elements="str", default=["all"]),
                    protocol=dict(type="str", default="tcp"),
                    source=dict(type="str", default="all"),
                    enabled=dict(type="bool", default=True),
                ),
            ),
            controller_address=dict(type="str"),
            controller_port=dict(type="int"),
            controller_interface=dict(type="str"),
            allow_lockout=dict(type="bool", default=False),
        ),
        required_libraries={"netaddr": (v.HAS_NETADDR, v.NETADDR_IMPORT_ERROR)},
        supports_check_mode=True,
    )
    module.run(run, validate=validate)


if __name__ == "__main__":
    main()
