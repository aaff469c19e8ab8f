#!/usr/bin/python
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dsm_letsencrypt
short_description: A Let's Encrypt certificate from DSM's own client (Control Panel > Security > Certificate)
version_added: 1.0.0
description:
  - Asks DSM to get a certificate from Let's Encrypt for O(names) (the first is the common name, the rest subject
    alternative names), as DSM's "Get a certificate from Let's Encrypt" wizard does. DSM then renews it by itself
    (its built-in renewal task), also while the controller is off.
  - A certificate on DSM that DSM's client issued for the same names (the same set, the same common name) is
    reused without any request; only its description and default flag are brought in line (C(--diff) shows
    names, description and default). A certificate imported with the same names (M(homelab.nas.dsm_certificate))
    is not one DSM renews and is not reused; DSM tells them apart by the C(renewable) flag of its certificate
    list (on a DSM that lists no such flag, by the issuer, so an imported Let's Encrypt certificate for the same
    names counts).
  - DSM validates by HTTP-01 only, so before asking, the task checks what that needs and fails naming the fix
    when it does not hold; in check mode too. No wildcard (except under Synology's DDNS domains, where DSM
    issues them); TCP port 80 from the internet reaches the NAS (O(port_80_forwarded), or a C(tcp/80) mapping in
    the O(router) result); every name resolves to the public address (O(public_address), else the O(router)
    result's address, else the one DSM detects).
  - The request is one call that DSM answers when Let's Encrypt has issued or refused the certificate, after
    minutes at worst (O(request_timeout)). It is never sent twice, also not after a timeout, since every request spends
    one of Let's Encrypt's rate-limit slots. DSM's errors 5520-5530 are reported with what to do.
author:
  - homelab.nas maintainers (@homelab-nas)
extends_documentation_fragment:
  - homelab.nas.dsm
  - homelab.nas.attributes
  - homelab.nas.attributes.full
options:
  names:
    description:
      - The certificate's names, the common name first (as in DSM's wizard, the domain name and then the subject
        alternative names). Compared lower-cased, without the trailing dot; the order after the first is free.
    type: list
    elements: str
    required: true
  email:
    description:
      - The e-mail address of DSM's Let's Encrypt account (expiry notices go there). Required with O(state=present).
    type: str
  description:
    description: DSM description of the certificate. Default the common name.
    type: str
  as_default:
    description:
      - Make the certificate DSM's default. V(false) leaves the default as it is (DSM always has one).
    type: bool
    default: false
  state:
    description:
      - V(present) requests the certificate unless DSM already has one for these names.
      - V(absent) deletes DSM's Let's Encrypt certificates with these names (not the default one; make another
        certificate the default first).
    type: str
    choices: [present, absent]
    default: present
  public_address:
    description:
      - The public (WAN) address every name must resolve to. Unset, the O(router) result's external address, else
        the address DSM detects (C(SYNO.Core.DDNS.ExtIP)). A private or carrier-grade NAT address is refused.
    type: str
  port_80_forwarded:
    description:
      - Say that TCP port 80 from the internet reaches the NAS (a forward set up by hand). Unset, the O(router)
        result must hold an enabled C(tcp/80) mapping.
    type: bool
    default: false
  router:
    description:
      - The registered result of M(homelab.nas.router_port_forward) for this router; its external address and
        its C(tcp/80) mapping satisfy O(public_address) and O(port_80_forwarded), and a router behind carrier-grade
        NAT is refused (HTTP-01 cannot reach the NAS; use M(homelab.nas.acme_certificate)).
    type: dict
  check_dns:
    description:
      - Check, through the controller's resolver, that every name resolves to the public address before asking
        DSM. V(false) skips it where the controller's DNS answers LAN addresses (split horizon); DSM then reports
        a name that does not resolve publicly as error 5529.
    type: bool
    default: true
  renew_before_days:
    description:
      - Warn when the certificate expires within so many days. DSM renews it by itself; a certificate this close
        to expiry means DSM's renewals are failing.
    type: int
    default: 30
  request_timeout:
    description:
      - Seconds to wait for DSM's answer to the request. DSM's own wizard waits six minutes; a shorter wait may give
        up while DSM is still working (the request is then not sent again; rerun the task later).
    type: int
    default: 600
notes:
  - The API's parameters are documented from public clients, not from Synology (docs/lab-fidelity.md, rows
    C(SYNO.Core.Certificate.LetsEncrypt)). Let's Encrypt's production directory is built into DSM; there is no
    staging. Test with a name you can afford to spend rate-limit slots on.
  - A name proxied by Cloudflare resolves to Cloudflare's addresses, not the public address, and fails the DNS
    check; publish it unproxied (HTTP-01 must reach the NAS) or use M(homelab.nas.acme_certificate) (DNS-01).
seealso:
  - module: homelab.nas.acme_certificate
  - module: homelab.nas.dsm_certificate
  - module: homelab.nas.router_port_forward
"""

EXAMPLES = r"""
- name: Port 80 to the NAS, for Let's Encrypt's HTTP-01 validation
  homelab.nas.router_port_forward:
    mappings:
      - {external_port: 80, internal_port: 80, internal_client: 192.168.1.10, description: "homelab.nas: http-01"}
  register: router

- name: A Let's Encrypt certificate from DSM's own client, made the default
  homelab.nas.dsm_letsencrypt:
    names: [nas.example.com, photos.example.com]
    email: admin@example.com
    description: letsencrypt
    as_default: true
    router: "{{ router }}"

- name: Port 80 forwarded by hand, LAN DNS answers LAN addresses
  homelab.nas.dsm_letsencrypt:
    names: [nas.example.com]
    email: admin@example.com
    public_address: 203.0.113.7
    port_80_forwarded: true
    check_dns: false
"""

RETURN = r"""
certificate:
  description:
    - The certificate on DSM after the task; null when none yet (check mode before a request) or with
      O(state=absent).
    - C(days_left) counts whole days to C(not_after).
  returned: always
  type: dict
  sample:
    id: Xy12Ab
    description: letsencrypt
    default: true
    names: [nas.example.com, photos.example.com]
    subject: nas.example.com
    issuer: R10
    sans: [nas.example.com, photos.example.com]
    not_before: "2026-12-01T17:00:00Z"
    not_after: "2027-03-01T17:00:00Z"
    days_left: 89
    fingerprint_sha256: "AB:CD:..."
    chain_fingerprints_sha256: ["12:34:..."]
    services: [DSM Desktop Service]
requested:
  description: Whether DSM was asked (in check mode, would be asked) for a new certificate.
  returned: always
  type: bool
  sample: true
preconditions:
  description:
    - What HTTP-01's checks found before a request (null when none was needed). The public address and where it
      came from, how port 80 is known to be forwarded, and each name's addresses.
  returned: always
  type: dict
  sample:
    public_address: 203.0.113.7
    public_address_from: router
    port_80: forwarded (router mapping tcp/80)
    names: {nas.example.com: [203.0.113.7]}
"""

from ansible_collections.homelab.nas.plugins.module_utils import dsm_letsencrypt as le
from ansible_collections.homelab.nas.plugins.module_utils.dsm_module import DsmModule


def main():
    module = DsmModule(
        argument_spec=dict(
            names=dict(type="list", elements="str", required=True),
            email=dict(type="str"),
            description=dict(type="str"),
            as_default=dict(type="bool", default=False),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            public_address=dict(type="str"),
            port_80_forwarded=dict(type="bool", default=False),
            router=dict(type="dict"),
            check_dns=dict(type="bool", default=True),
            renew_before_days=dict(type="int", default=30),
            request_timeout=dict(type="int", default=600),
        ),
        required_if=[("state", "present", ["email"])],
        supports_check_mode=True,
    )

    def body(mod, want):
        def wrote():
            mod.partial.update(changed=True)

        plan = le.plan(mod.client, want, on_write=wrote, resolver=le.resolve)
        for warning in plan.warnings:
            mod.warn(warning)
        return mod.converge(plan.before, plan.after, plan.apply, plan.result)

    module.run(body, validate=le.desired)


if __name__ == "__main__":
    main()
