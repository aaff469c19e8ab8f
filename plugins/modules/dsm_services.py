#!/usr/bin/python
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dsm_services
short_description: DSM's SSH, Telnet and QuickConnect, with lockout care for SSH
version_added: 1.0.0
description:
  - Brings Control Panel > Terminal & SNMP (SSH, its port, Telnet, the serial console) and Control Panel > External
    Access > QuickConnect (on or off, its relay) to the declared state.
  - Telnet is turned off by every run unless O(telnet=true) together with O(allow_telnet=true).
  - "Lockout care, checked after reading and before any write: with O(controller_uses_ssh=true) and SSH on, turning
    SSH off or moving it to another port is refused (the play's own connection would go); and a new SSH port is
    refused unless DSM's firewall admits it from this controller (the firewall's rules evaluated as DSM evaluates
    them, as M(homelab.nas.dsm_firewall) does for DSM's own port). O(allow_lockout=true) overrides both."
  - QuickConnect is a package; without it DSM offers no C(SYNO.Core.QuickConnect). QuickConnect is then off, which
    O(quickconnect.enabled=false) accepts (reported as C(installed=false)); O(quickconnect.enabled=true) fails
    naming the package.
  - The relay is a setting of C(SYNO.Core.QuickConnect) version 3; on a DSM whose QuickConnect API stops at
    version 2, O(quickconnect.relay) fails before any write.
author:
  - homelab.nas maintainers (@homelab-nas)
extends_documentation_fragment:
  - homelab.nas.dsm
  - homelab.nas.attributes
  - homelab.nas.attributes.full
options:
  ssh:
    description: DSM's SSH service. Options left out keep DSM's value.
    type: dict
    suboptions:
      enabled:
        description: Turn SSH on or off.
        type: bool
      port:
        description: Port DSM's sshd listens on (DSM's default is 22).
        type: int
  telnet:
    description:
      - Turn Telnet on. Telnet sends passwords in clear text, so V(true) also needs O(allow_telnet=true).
    type: bool
    default: false
  allow_telnet:
    description: Accept O(telnet=true).
    type: bool
    default: false
  forbid_console:
    description: Forbid logins on the serial console. Left out, DSM's value is kept.
    type: bool
  quickconnect:
    description: QuickConnect, Synology's relay service that reaches the NAS without a port forward. Left out,
      QuickConnect is not read or changed.
    type: dict
    suboptions:
      enabled:
        description:
          - Turn QuickConnect on or off. Turning it on needs a QuickConnect ID already set up in DSM (it takes a
            Synology Account, which this module does not handle).
        type: bool
        required: true
      relay:
        description: Let QuickConnect relay connections through Synology's servers. Left out, DSM's value is kept.
        type: bool
  controller_uses_ssh:
    description:
      - This play reaches the NAS over SSH (C(ansible_connection) ssh to this host, or a task delegated to it). SSH
        is then neither turned off nor moved to another port while it is on. The C(hardening) role sets it from
        C(ansible_connection).
    type: bool
    default: false
  controller_address:
    description:
      - Address DSM sees this controller's connections come from, for the firewall check of a new SSH port.
        Defaults to the source address of a connection to DSM.
    type: str
  controller_interface:
    description:
      - DSM interface the controller's connections arrive on (V(eth0), V(bond0)...). Unset, the firewall must admit
        the new SSH port on every interface it has rules for.
    type: str
  allow_lockout:
    description:
      - Apply an SSH change even if this play uses SSH (O(controller_uses_ssh)) or the firewall would not admit
        the new port from this controller.
    type: bool
    default: false
notes:
  - Terminal is written at version 3 with all four of C(enable_ssh), C(enable_telnet), C(ssh_port) and
    C(forbid_console) (the fields left alone as read), a round trip a public client verified on DSM 7.3.
  - DSM's QuickConnect switch is named C(enabled) by some public clients and C(enable) by another, none verified on
    a NAS; the module tries each and reads the state back, failing if DSM never reports the change.
  - Refusing to disable QuickConnect or its relay while the module itself reaches DSM through a QuickConnect
    hostname (O(host) ending in C(quickconnect.to)) is not overridable.
"""

EXAMPLES = r"""
- name: SSH off, Telnet off, QuickConnect off
  homelab.nas.dsm_services:
    ssh:
      enabled: false
    quickconnect:
      enabled: false

- name: SSH on port 2222 (the firewall must admit it from here first), the relay off
  homelab.nas.dsm_services:
    ssh:
      enabled: true
      port: 2222
    quickconnect:
      enabled: true
      relay: false
    controller_uses_ssh: "{{ ansible_connection | default('ssh') is search('ssh') }}"
"""

RETURN = r"""
services:
  description:
    - The services after the task (planned in check mode). C(quickconnect) is null when O(quickconnect) was not
      given; its C(relay) is null when DSM's QuickConnect has no relay setting, C(installed) false without the
      package.
  returned: always
  type: dict
  sample:
    ssh: {enabled: false, port: 22}
    telnet: false
    forbid_console: false
    quickconnect: {installed: true, enabled: false, relay: false}
lockout_check:
  description: How DSM's firewall treats this controller on the new SSH port (only when the SSH port changes).
  returned: when the SSH port changes and SSH stays on
  type: dict
  sample: {address: 192.168.1.10, port: 2222, action: allow, rule: lan, interface: global, firewall: true}
"""

from ansible_collections.homelab.nas.plugins.module_utils import dsm_services as svc, dsm_validate as v
from ansible_collections.homelab.nas.plugins.module_utils.dsm_module import DsmModule
from ansible_collections.homelab.nas.plugins.module_utils.net import connection_source


def validate(params):
    ssh = params["ssh"] or {}
    if ssh.get("port") is not None:
        v.port("ssh.port", ssh["port"])
    if params["telnet"] and not params["allow_telnet"]:
        raise v.InputError(
            "telnet: Telnet sends passwords in clear text; use SSH instead, or set allow_telnet: true to accept it"
        )
    if params["controller_address"]:
        group, _source = v.source("controller_address", params["controller_address"])
        if group != "ip":
            raise v.InputError(
                "controller_address: '%s' is not one address; give the address DSM sees the controller come from"
                % params["controller_address"]
            )
    if params["controller_interface"]:
        v.interface("controller_interface", params["controller_interface"])
    return {
        "ssh_enabled": ssh.get("enabled"),
        "ssh_port": ssh.get("port"),
        "telnet": bool(params["telnet"]),
        "forbid_console": params["forbid_console"],
        "quickconnect": params["quickconnect"],
    }


def qc_view(state):
    if state is None:
        return None
    return {"installed": state["installed"], "enabled": bool(state["enabled"]), "relay": state["relay"]}


def wanted_quickconnect(mod, want, current):
    """The QuickConnect state to reach, refusing what cannot be done before anything is written."""
    asked = want["quickconnect"]
    if not current["installed"]:
        if asked["enabled"] or asked.get("relay"):
            mod.fail(
                "quickconnect.enabled: this DSM does not offer SYNO.Core.QuickConnect: the QuickConnect package is "
                "not installed (Package Center), so QuickConnect cannot be turned on here; install it and set it up "
                "with a Synology Account once, or set quickconnect.enabled: false",
                changed=False,
            )
        return dict(current)
    after = dict(current, enabled=asked["enabled"])
    if asked.get("relay") is not None:
        if not current["relay_readable"]:
            mod.fail(
                "quickconnect.relay: this DSM's SYNO.Core.QuickConnect has no readable relay setting (version 3 "
                "get_misc_config); set the relay in Control Panel > External Access > QuickConnect > Advanced and "
                "leave quickconnect.relay out",
                changed=False,
            )
        after["relay"] = asked["relay"]
    if after["enabled"] and not current["enabled"] and not current["server_alias"]:
        mod.fail(
            "quickconnect.enabled: DSM has no QuickConnect ID yet; set one up in Control Panel > External Access > "
            "QuickConnect (it needs a Synology Account), then run again",
            changed=False,
        )
    host = str(mod.params["host"]).lower().rstrip(".")
    through_quickconnect = any(host == d or host.endswith("." + d) for d in current["domains"])
    cutting = (current["enabled"] and not after["enabled"]) or (current["relay"] and after["relay"] is False)
    if through_quickconnect and cutting:
        mod.fail(
            "quickconnect: this module reaches DSM through QuickConnect (%s); turning QuickConnect or its relay off "
            "would cut the connection it needs to finish. Run it over the LAN (host: the NAS's address)" % host,
            changed=False,
        )
    return after


def check_ssh(mod, want, before, after, result):
    """The SSH lockout refusals, before any write."""
    p = mod.params
    was, will = before["ssh"], after["ssh"]
    moving = will["enabled"] and will["port"] != was["port"]
    cutting = was["enabled"] and (not will["enabled"] or will["port"] != was["port"])
    if p["controller_uses_ssh"] and cutting and not p["allow_lockout"]:
        mod.fail(
            "%s: this play reaches the NAS over SSH (controller_uses_ssh) on port %d; %s would cut its own "
            "connection. Run the DSM tasks with a local connection (they use DSM's Web API), change SSH in a "
            "play that does not use it, or set allow_lockout: true"
            % (
                "ssh.enabled" if not will["enabled"] else "ssh.port",
                was["port"],
                "turning SSH off" if not will["enabled"] else "moving SSH to %d" % will["port"],
            ),
            changed=False,
        )
    if not moving:
        return
    address = p["controller_address"] or connection_source(mod.client.host, mod.client.port, mod.client.timeout)
    admitted, check = svc.firewall_admits(mod.client, address, will["port"], p["controller_interface"])
    result["lockout_check"] = check
    if not admitted and not p["allow_lockout"]:
        where = "rule '%s'" % check["rule"] if check["rule"] else "the default action (deny)"
        mod.fail(
            "ssh.port: DSM's firewall would not admit this controller (%s) to SSH on port %d (%s); allow it first "
            "(with the hardening role, add %d to hardening_lan_ports), set controller_address or "
            "controller_interface if DSM sees another address or interface, or set allow_lockout: true"
            % (address, will["port"], where, will["port"]),
            changed=False,
            lockout_check=check,
        )


def run(mod, want):
    api = svc.DsmServices(mod.client)
    terminal, qc_before = api.read(with_quickconnect=want["quickconnect"] is not None)

    after_terminal = {
        "ssh": {
            "enabled": terminal["ssh"]["enabled"] if want["ssh_enabled"] is None else want["ssh_enabled"],
            "port": terminal["ssh"]["port"] if want["ssh_port"] is None else want["ssh_port"],
        },
        "telnet": want["telnet"],
        "forbid_console": terminal["forbid_console"] if want["forbid_console"] is None else want["forbid_console"],
    }
    qc_after = wanted_quickconnect(mod, want, qc_before) if qc_before is not None else None

    before = dict(terminal, quickconnect=qc_view(qc_before))
    after = dict(after_terminal, quickconnect=qc_view(qc_after))
    result = dict(services=after)
    check_ssh(mod, want, terminal, after_terminal, result)

    def apply():
        if after_terminal != terminal:
            api.set_terminal(after_terminal)
            mod.partial.update(changed=True)  # a QuickConnect failure after this still reports the change
        if qc_after is not None and qc_after["installed"]:
            if qc_after["enabled"] != qc_before["enabled"]:
                api.set_quickconnect_enabled(qc_after["enabled"], qc_before)
            if qc_after["relay"] is not None and qc_after["relay"] != qc_before["relay"]:
                api.set_relay(qc_after["relay"])

    return mod.converge(before, after, apply, result)


def main():
    module = DsmModule(
        argument_spec=dict(
            ssh=dict(type="dict", options=dict(enabled=dict(type="bool"), port=dict(type="int"))),
            telnet=dict(type="bool", default=False),
            allow_telnet=dict(type="bool", default=False),
            forbid_console=dict(type="bool"),
            quickconnect=dict(
                type="dict",
                options=dict(enabled=dict(type="bool", required=True), relay=dict(type="bool")),
            ),
            controller_uses_ssh=dict(type="bool", default=False),
            controller_address=dict(type="str"),
            controller_interface=dict(type="str"),
            allow_lockout=dict(type="bool", default=False),
        ),
        required_libraries={"netaddr": (v.HAS_NETADDR, v.NETADDR_IMPORT_ERROR)},
        supports_check_mode=True,
    )
    module.run(run, validate=validate)


if __name__ == "__main__":
    main()
