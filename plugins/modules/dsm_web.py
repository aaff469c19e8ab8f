#!/usr/bin/python
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dsm_web
short_description: DSM's web settings (ports, HTTPS redirect, HSTS, HTTP/2, custom domain) and its TLS profile
version_added: 1.0.0
description:
  - Brings Control Panel > Login Portal > DSM and Security > Advanced > TLS / SSL Profile Level to the declared
    state. Only the options given are managed; everything else DSM holds is written back as it was read.
  - Reads C(SYNO.Core.Web.DSM) at versions 1 and 2 and merges the answers (DSM builds differ in which version
    answers HSTS), and writes it at version 1 as a whole object.
  - Moving the port this controller connects to is a lockout hazard. The module refuses it, before any write,
    unless DSM's firewall (when on) admits the new port from this controller. After the move it connects to the
    new port, checks DSM answers there with the same session, and moves the session cache entry and the recorded
    certificate pins to the new address, so later tasks that use the new port keep the session. Set the play's
    connection port from the result (RV(port)); see the examples.
  - When the controller reaches DSM through a port translation (O(port) is not DSM's own port), moving that
    port is refused before any write, as the translation would then lead nowhere.
author:
  - homelab.nas maintainers (@homelab-nas)
extends_documentation_fragment:
  - homelab.nas.dsm
  - homelab.nas.attributes
  - homelab.nas.attributes.full
options:
  http_port:
    description:
      - DSM's HTTP port (DSM's default 5000). 1-65535, not 80 or 443 (DSM's web server serves those), not
        O(https_port).
    type: int
  https_port:
    description:
      - DSM's HTTPS port (DSM's default 5001). Cloudflare proxies only some ports (8443, 2053, 2083, 2087, 2096);
        5001 is not one of them. 1-65535, not 80 or 443, not O(http_port).
    type: int
  https_redirect:
    description: Redirect HTTP connections to DSM to HTTPS.
    type: bool
  hsts:
    description: Send the HSTS header on DSM's HTTPS answers (browsers then refuse plain HTTP to it).
    type: bool
  http2:
    description: HTTP/2 on DSM's web server (DSM's C(enable_spdy)).
    type: bool
  custom_domain:
    description:
      - DSM's custom domain (the name DSM answers for, C(enable_custom_domain) and C(fqdn)); V("") turns it off.
    type: str
  external_hostname:
    description:
      - The hostname or address DSM uses in the links it sends (External Access > Advanced,
        C(SYNO.Core.Web.DSM.External)); V("") clears it.
    type: str
  tls_profile:
    description:
      - DSM's default TLS profile level, which every service without its own level follows. V(modern) allows
        only TLS 1.3 and 1.2's strongest ciphers; V(old) keeps old clients working.
    type: str
    choices: [modern, intermediate, old]
  controller_address:
    description:
      - The address DSM sees this controller come from, for the firewall check of a port move. By default the
        source address of a connection to DSM; set it when NAT sits between them.
    type: str
  wait_timeout:
    description: Seconds to wait for DSM to answer on a new port after a move.
    type: int
    default: 60
notes:
  - The field names are those DSM's own UI sends; which version DSM answers HSTS at differs between builds, so
    both are read. The TLS levels are 0 (modern), 1 (intermediate) and 2 (old) as DSM numbers them.
"""

EXAMPLES = r"""
- name: HTTPS only, HSTS, HTTP/2, the modern TLS profile
  homelab.nas.dsm_web:
    https_redirect: true
    hsts: true
    http2: true
    tls_profile: modern

# A port move the run survives: later tasks use the port the module returns.
- name: DSM on 8443, a port Cloudflare proxies
  homelab.nas.dsm_web:
    https_port: 8443
  register: dsm_web_result

- name: Later DSM tasks connect to the new port (module_defaults use port "{{ dsm_port }}")
  ansible.builtin.set_fact:
    dsm_port: "{{ dsm_web_result.port }}"

- name: Still the same session, on 8443
  homelab.nas.dsm_info:
"""

RETURN = r"""
web:
  description:
    - DSM's web settings after the task (planned in check mode), in the module's terms.
    - C(external_hostname) and C(tls_profile) are null on a DSM without their API.
  returned: always
  type: dict
  sample:
    http_port: 5000
    https_port: 8443
    https_redirect: true
    hsts: true
    http2: true
    custom_domain: ""
    external_hostname: nas.example.com
    tls_profile: modern
port:
  description:
    - The port to connect to DSM on from now on (the new one after a move this controller followed; in check mode,
      the current one). Set the play's connection port from it.
  returned: always
  type: int
  sample: 8443
url:
  description: DSM's address as this controller reaches it from now on.
  returned: always
  type: str
  sample: https://nas.example.com:8443/
moved:
  description: Whether this task moved the port this controller connects to, and followed it.
  returned: always
  type: bool
  sample: true
lockout_check:
  description: The firewall check of a move of this controller's port.
  returned: when that port moves
  type: dict
  sample: {address: 192.168.1.5, port: 8443, admitted: true, why: "rule 'lan 192.168.0.0/16' ... says allow"}
"""

import time

from ansible_collections.homelab.nas.plugins.module_utils import dsm_validate as v, dsm_web as w
from ansible_collections.homelab.nas.plugins.module_utils.dsm_errors import DsmError
from ansible_collections.homelab.nas.plugins.module_utils.dsm_module import DsmModule
from ansible_collections.homelab.nas.plugins.module_utils.net import connection_source


def validate(params):
    w.check_ports(params["http_port"], params["https_port"])
    if params["custom_domain"]:
        v.hostname("custom_domain", params["custom_domain"])
    if params["external_hostname"]:
        v.hostname("external_hostname", params["external_hostname"])
    if params["controller_address"]:
        group, _source = v.source("controller_address", params["controller_address"])
        if group != "ip":
            raise v.InputError(
                "controller_address: '%s' is not one address; give the address DSM sees the controller come from"
                % params["controller_address"]
            )
    if params["wait_timeout"] <= 0:
        raise v.InputError("wait_timeout: give a number of seconds above 0")


def view(merged, hostname, level):
    out = {name: merged.get(field) for name, field in w.FIELDS.items()}
    out["custom_domain"] = (merged.get("fqdn") or "") if merged.get("enable_custom_domain") else ""
    out["external_hostname"] = hostname
    out["tls_profile"] = w.level_name(level)
    return out


def url_of(client, port):
    host = "[%s]" % client.host if ":" in client.host and not client.host.startswith("[") else client.host
    return "%s://%s:%d/" % ("https" if client.base_url.startswith("https") else "http", host, port)


def run(mod, _wanted):
    p = mod.params
    api = w.DsmWeb(mod.client)
    merged, hostname, level = api.read()
    for option, missing, name in (("external_hostname", hostname, w.EXTERNAL_API), ("tls_profile", level, w.TLS_API)):
        if p[option] is not None and missing is None:
            mod.fail("%s: this DSM does not offer %s (DSM too old); leave %s out" % (option, name, option))
    before = view(merged, hostname, level)
    wanted = dict(merged)
    for name, field in w.FIELDS.items():
        if p[name] is not None:
            wanted[field] = p[name]
    if p["custom_domain"] is not None:
        wanted["enable_custom_domain"] = bool(p["custom_domain"])
        if p["custom_domain"]:
            wanted["fqdn"] = p["custom_domain"]
    given = [name for name in ("http_port", "https_port") if p[name] is not None]
    try:
        w.check_merged(wanted, given)
    except v.InputError as exc:
        mod.fail(str(exc), changed=False)
    after = view(wanted, hostname if p["external_hostname"] is None else p["external_hostname"], level)
    if p["tls_profile"] is not None:
        after["tls_profile"] = p["tls_profile"]

    # The port this controller uses is DSM's own for its scheme, or a translation in front of it.
    scheme_port = "https_port" if mod.client.base_url.startswith("https") else "http_port"
    follows = mod.client.port == merged.get(scheme_port)
    new_port = wanted[scheme_port]
    moving = new_port != merged.get(scheme_port)
    result = dict(web=after, port=mod.client.port, url=url_of(mod.client, mod.client.port), moved=False)
    if moving and follows:
        address = p["controller_address"] or connection_source(mod.client.host, mod.client.port, mod.client.timeout)
        admitted, why = w.firewall_verdict(mod.client, address, new_port)
        result["lockout_check"] = dict(address=address, port=new_port, admitted=admitted, why=why)
        if not admitted:
            mod.fail(
                "refusing to move DSM's %s from %d to %d: DSM's firewall would not let this controller (%s) reach "
                "the new port (%s). Allow the new port first (with the hardening role it does that itself; with "
                "dsm_firewall, add %d to a rule allowing this controller), or set controller_address if DSM sees "
                "another address" % (scheme_port.replace("_", " "), mod.client.port, new_port, address, why, new_port),
                **dict(result, changed=False),
            )
    elif moving:
        # A translation (router forward, proxy) in front of DSM points at the old port: it would lead nowhere.
        own = merged.get(scheme_port)
        mod.fail(
            "refusing to move DSM's %s from %s to %d: this controller reaches DSM on port %d, a port translation in "
            "front of DSM's own, which would then lead nowhere. Run this from the LAN on DSM's own port (port: %s), "
            "or move the port by hand and then the translation"
            % (scheme_port.replace("_", " "), own, new_port, mod.client.port, own),
            **dict(result, changed=False),
        )

    def apply():
        # A failure after a write reports what was already changed.
        if p["tls_profile"] is not None and before["tls_profile"] != p["tls_profile"]:
            api.set_tls_level(w.TLS_LEVELS[p["tls_profile"]])
            mod.partial.update(changed=True)
        if p["external_hostname"] is not None and hostname != p["external_hostname"]:
            api.set_external_hostname(p["external_hostname"])
            mod.partial.update(changed=True)
        web_fields = ("http_port", "https_port", "https_redirect", "hsts", "http2", "custom_domain")
        if any(before[k] != after[k] for k in web_fields):
            try:
                api.write(wanted)
            except DsmError as exc:
                # An answer (an API error code, or an HTTP error status) is DSM refusing; only silence is the move.
                if exc.code is not None or exc.status is not None or not (moving and follows):
                    raise
                # The connection dropped under the set: DSM's web server restarting on the new port. Whether the
                # set took is learnt there.
        if moving and follows:
            return follow(mod, new_port, wanted)
        return None

    return mod.converge(before, after, apply, result)


def follow(mod, new_port, wanted):
    """Connect to DSM on its new port with the same session, and wait until it answers there."""
    old_port = mod.client.port
    client = mod.client.follow(new_port)
    mod._client = client  # pylint: disable=protected-access  # the task's client from now on (closed at its end)
    deadline = time.monotonic() + mod.params["wait_timeout"]
    while True:
        try:
            seen = w.DsmWeb(client).confirm()
            break
        except DsmError as exc:
            if exc.code is not None or time.monotonic() > deadline:
                mod.fail(
                    "DSM was asked to move from port %d to %d and does not answer on %d (%s). Reach it on the LAN on "
                    "either port (DSM Settings in Control Panel > Login Portal) to see which it serves; set the "
                    "connection port (dsm_port) to that one" % (old_port, new_port, new_port, exc),
                    changed=True,
                )
            time.sleep(0.5)
    for field in ("http_port", "https_port"):
        if seen.get(field) not in (None, wanted[field]):
            mod.fail(
                "DSM answers on port %d but reports %s %s, not %s" % (new_port, field, seen.get(field), wanted[field]),
                changed=True,
            )
    return dict(port=new_port, url=url_of(client, new_port), moved=True)


def main():
    module = DsmModule(
        argument_spec=dict(
            http_port=dict(type="int"),
            https_port=dict(type="int"),
            https_redirect=dict(type="bool"),
            hsts=dict(type="bool"),
            http2=dict(type="bool"),
            custom_domain=dict(type="str"),
            external_hostname=dict(type="str"),
            tls_profile=dict(type="str", choices=list(w.TLS_LEVELS)),
            controller_address=dict(type="str"),
            wait_timeout=dict(type="int", default=60),
        ),
        supports_check_mode=True,
    )
    module.run(run, validate=validate)


if __name__ == "__main__":
    main()
