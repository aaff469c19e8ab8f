#!/usr/bin/python
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dsm_ddns
short_description: DSM's DDNS records (Control Panel > External Access > DDNS)
version_added: 1.0.0
description:
  - Adds, changes or removes one of DSM's own DDNS records, which DSM then keeps pointing at its external
    address by itself, also while the controller is off.
  - A record is identified by O(provider) and O(hostname). DSM keeps one record per provider on the DSMs
    public sources describe; adding a second hostname for a provider that already has one fails before any
    write, naming the record to remove first.
  - Synology's own provider (C(synology.me) and its sister domains) is read and enabled, never created; its
    hostnames are registered in DSM with a signed-in Synology Account (DSM's DDNS wizard), and no public
    source shows an API that registers one without that account. Register the hostname once in DSM; this
    module then enables it, sets heartbeat and the address families, or removes it.
  - DSM never returns a record's password, so the module cannot tell whether it differs. With
    O(update_password=on_create) (the default) the password is sent only when the record is created; use
    O(update_password=always) to send it on every run (the task then reports a change every run). The
    password is never shown, not even in C(--diff).
  - With O(refresh=true), a record whose published address differs from the external address DSM detects
    (C(SYNO.Core.DDNS.ExtIP)) is updated now (C(update_ip_address)) instead of at DSM's next periodic check.
author:
  - homelab.nas maintainers (@homelab-nas)
extends_documentation_fragment:
  - homelab.nas.dsm
  - homelab.nas.attributes
  - homelab.nas.attributes.full
options:
  provider:
    description:
      - The DDNS service provider, as DSM lists it (its name, such as V(Synology), V(DynDNS) or V(No-IP.com),
        or its id); compared without case. An unknown provider fails, naming the providers this DSM offers.
    type: str
    required: true
  hostname:
    description:
      - The hostname the record publishes, such as V(nas.example.com) (RFC 1123; compared lower-cased without the
        trailing dot).
    type: str
    required: true
  state:
    description: Whether the record exists. V(absent) removes it (a record that is not there is no change).
    type: str
    choices: [present, absent]
    default: present
  provider_username:
    description:
      - The account name at the DDNS provider. Needed to create a record of a provider other than Synology;
        when not given for an existing record, its current value is kept. Not used with Synology's provider
        (DSM uses its Synology Account).
    type: str
  provider_password:
    description:
      - The password (or token) at the DDNS provider. Needed to create a record of a provider other than
        Synology. Never logged, returned or shown in the diff.
    type: str
  update_password:
    description:
      - V(on_create) sends O(provider_password) only when the record is created, since DSM does not return a
        record's password to compare with.
      - V(always) sends it on every run and reports a change each time (unless DSM returns a password that
        compares equal).
    type: str
    choices: [always, on_create]
    default: on_create
  enabled:
    description: Whether DSM keeps the record updated.
    type: bool
    default: true
  heartbeat:
    description: DSM's heartbeat option for the record (the provider is told regularly that the NAS is alive).
    type: bool
    default: false
  ipv4:
    description: V(auto) publishes the external IPv4 address DSM detects; V(disabled) publishes none.
    type: str
    choices: [auto, disabled]
    default: auto
  ipv6:
    description: V(auto) publishes the external IPv6 address DSM detects; V(disabled) publishes none.
    type: str
    choices: [auto, disabled]
    default: disabled
  refresh:
    description:
      - Ask DSM to update the record now when what it published differs from the external address it
        detects. V(false) leaves that to DSM's own schedule.
    type: bool
    default: true
notes:
  - The record's fields and the way DSM chooses the published address are documented from public clients and
    API dumps, not from Synology; docs/lab-fidelity.md lists each fact with its source. Check the record in
    DSM's DDNS page after the first run on a real NAS.
  - An external address that is private or carrier-grade NAT (100.64.0.0/10) gives a warning, since the hostname
    would point at an address the internet cannot reach.
"""

EXAMPLES = r"""
- name: A DynDNS-compatible record, kept updated by DSM
  homelab.nas.dsm_ddns:
    provider: DynDNS
    hostname: nas.example.com
    provider_username: dyn-user
    provider_password: "{{ vault_dyn_password }}"
    heartbeat: true
    ipv6: auto

- name: Enable the synology.me hostname registered in DSM's wizard
  homelab.nas.dsm_ddns:
    provider: Synology
    hostname: mynas.synology.me

- name: Rotate the provider password
  homelab.nas.dsm_ddns:
    provider: DynDNS
    hostname: nas.example.com
    provider_password: "{{ vault_dyn_password }}"
    update_password: always

- name: Remove a record
  homelab.nas.dsm_ddns:
    provider: DynDNS
    hostname: nas.example.com
    state: absent
"""

RETURN = r"""
record:
  description:
    - The record after the task (planned in check mode), without its password; null when absent.
    - C(published) is what DSM last published per address family (null when none), C(status) and
      C(last_updated) as DSM reports them.
  returned: always
  type: dict
  sample:
    id: DynDNS
    provider: DynDNS
    hostname: nas.example.com
    username: dyn-user
    enabled: true
    heartbeat: true
    ipv4: auto
    ipv6: auto
    published: {ipv4: 203.0.113.7, ipv6: null}
    status: service_ddns_normal
    last_updated: "2026-12-01 14:00:00"
external_address:
  description: The external addresses DSM detects (SYNO.Core.DDNS.ExtIP); null when DSM cannot say or with state=absent.
  returned: always
  type: dict
  sample: {ipv4: 203.0.113.7, ipv6: null}
refreshed:
  description: Whether DSM was asked (or, in check mode, would be asked) to update the record's address now.
  returned: always
  type: bool
  sample: false
"""

from ansible_collections.homelab.nas.plugins.module_utils import dsm_ddns as d
from ansible_collections.homelab.nas.plugins.module_utils.dsm_module import DsmModule


def main():
    module = DsmModule(
        argument_spec=dict(
            provider=dict(type="str", required=True),
            hostname=dict(type="str", required=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            provider_username=dict(type="str"),
            provider_password=dict(type="str", no_log=True),
            update_password=dict(type="str", default="on_create", choices=["always", "on_create"], no_log=False),
            enabled=dict(type="bool", default=True),
            heartbeat=dict(type="bool", default=False),
            ipv4=dict(type="str", default="auto", choices=list(d.ADDRESS_MODES)),
            ipv6=dict(type="str", default="disabled", choices=list(d.ADDRESS_MODES)),
            refresh=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )

    def body(mod, want):
        plan = d.plan(d.DsmDdns(mod.client), want, on_write=lambda: mod.partial.update(changed=True), warn=mod.warn)
        for warning in plan.warnings:
            mod.warn(warning)
        return mod.converge(plan.before, plan.after, plan.apply, plan.result)

    module.run(body, validate=d.desired)


if __name__ == "__main__":
    main()
