#!/usr/bin/python
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: tls_probe_info
short_description: What a visitor or an attacker sees of a published hostname over HTTP(S)
version_added: 1.0.0
description:
  - Makes one HTTP or HTTPS request from the controller, as a browser would (SNI and C(Host) are O(server_name)),
    and returns what it saw, the negotiated TLS version, the server certificate (names, expiry, fingerprint),
    the status and the response headers.
  - With O(server_names), makes that request once for each name, several at once (O(parallel)), and returns
    each one's result in RV(probes), so one task covers every published hostname, instead of a loop whose items
    each cost a task's overhead.
  - A refused connection, a failed TLS handshake, an untrusted certificate or a missing HTTP answer is
    a result too (RV(reachable), RV(tls_established), RV(error_kind)), not a task failure, because some checks
    want exactly that. Assert on the result; the homelab.nas.verify role does.
  - Reads only; nothing is changed anywhere, so check mode runs it too.
author:
  - homelab.nas maintainers (@homelab-nas)
extends_documentation_fragment:
  - homelab.nas.attributes
  - homelab.nas.attributes.info_module
attributes:
  action_group:
    support: none
    details: No group; the module talks to no API of this collection, so there is nothing to set once per play.
    membership: []
options:
  host:
    description:
      - Address or name to connect to (the edge, a public hostname, or the origin's address).
      - Unset, the name probed (O(server_name), or each of O(server_names)), as a browser would connect.
      - One of O(host), O(server_name) and O(server_names) is required.
    type: str
  port:
    description: TCP port.
    type: int
    default: 443
  server_name:
    description: Name sent as SNI and as the C(Host) header, and checked against the certificate. Unset, O(host).
    type: str
  server_names:
    description:
      - Probe each of these names (as O(server_name)) and return the results in RV(probes), in this order.
      - Mutually exclusive with O(server_name).
    type: list
    elements: str
  parallel:
    description: With O(server_names), how many names are probed at once.
    type: int
    default: 8
  path:
    description: Path and query of the request.
    type: str
    default: /
  tls:
    description: Speak HTTPS (V(true)) or plain HTTP (V(false), for example to see a redirect to HTTPS).
    type: bool
    default: true
  method:
    description: HTTP method.
    type: str
    choices: [GET, HEAD]
    default: GET
  headers:
    description: Extra request headers.
    type: dict
    default: {}
  return_headers:
    description:
      - Only these response headers in RV(headers) (names in any case); unset, every header the server sent.
      - With many names (O(server_names)), naming the headers a check reads keeps the result small.
    type: list
    elements: str
  body:
    description:
      - Return the start of the response body (RV(body)). V(false) leaves it out, which keeps the result of a
        task probing many names (O(server_names)) small.
    type: bool
    default: true
  validate_certs:
    description:
      - Verify the server certificate and that it is for O(server_name). Turn off to see what an attacker
        connecting to an origin's address sees (the certificate is still returned).
    type: bool
    default: true
  ca_path:
    description: PEM file of the CA certificates to trust instead of the system's.
    type: path
  client_cert:
    description: PEM client certificate to present when the server asks for one.
    type: path
  client_key:
    description: Private key of O(client_cert), if not in the same file.
    type: path
  min_tls_version:
    description: Lowest TLS version to offer.
    type: str
    choices: ["1.0", "1.1", "1.2", "1.3"]
  max_tls_version:
    description: Highest TLS version to offer; V(1.1) shows whether the server still accepts old clients.
    type: str
    choices: ["1.0", "1.1", "1.2", "1.3"]
  timeout:
    description: Seconds to wait for the connection and for each read.
    type: float
    default: 10
requirements:
  - cryptography
notes:
  - The body is returned up to its first 4 KiB.
"""

EXAMPLES = r"""
- name: What a visitor sees through Cloudflare
  homelab.nas.tls_probe_info:
    host: photos.example.com
  register: visitor

- name: Answered over TLS 1.2 or newer with HSTS
  ansible.builtin.assert:
    that:
      - visitor.status == 200
      - visitor.tls_version in ['TLSv1.2', 'TLSv1.3']
      - "'max-age=' in visitor.headers['strict-transport-security'] | default('')"

- name: An attacker going straight to the origin, without Cloudflare's client certificate
  homelab.nas.tls_probe_info:
    host: 203.0.113.7
    server_name: photos.example.com
    validate_certs: false
  register: attacker

- name: Every published hostname through Cloudflare, in one task
  homelab.nas.tls_probe_info:
    server_names: [photos.example.com, files.example.com]
  register: visitors

- name: Each answered over TLS 1.2 or newer
  ansible.builtin.assert:
    that: visitors.probes | rejectattr('tls_version', 'in', ['TLSv1.2', 'TLSv1.3']) | list | length == 0
"""

RETURN = r"""
probes:
  description:
    - With O(server_names), one result per name, in its order. Each has the keys below (RV(reachable) to
      RV(error_kind)), and RV(probes[].server_name).
    - Without O(server_names), those keys are returned at the top level instead, and this is not returned.
  returned: when O(server_names) is set
  type: list
  elements: dict
  contains:
    server_name: {description: The name this result is for., type: str}
reachable:
  description: Whether the TCP connection was made.
  returned: unless O(server_names) is set (then in each of RV(probes))
  type: bool
tls_established:
  description: Whether the TLS handshake (and certificate check when O(validate_certs)) succeeded.
  returned: unless O(server_names) is set (then in each of RV(probes))
  type: bool
tls_version:
  description: Negotiated protocol, for example V(TLSv1.3).
  returned: when the handshake succeeded
  type: str
certificate:
  description: The server's certificate.
  returned: when the handshake succeeded
  type: dict
  contains:
    subject: {description: Subject (RFC 4514)., type: str}
    issuer: {description: Issuer (RFC 4514)., type: str}
    sans: {description: DNS names of the subjectAltName extension., type: list, elements: str}
    not_before: {description: "Start of validity (ISO 8601, UTC).", type: str}
    not_after: {description: "End of validity (ISO 8601, UTC).", type: str}
    days_left: {description: Whole days until RV(certificate.not_after)., type: int}
    sha256: {description: SHA-256 fingerprint of the DER certificate (hex)., type: str}
covers:
  description: Whether the certificate's names cover O(server_name) (wildcards cover one label).
  returned: when the handshake succeeded
  type: bool
status:
  description: HTTP status.
  returned: when the server answered
  type: int
headers:
  description: Response headers (only those in O(return_headers) when set), names in lower case.
  returned: unless O(server_names) is set (then in each of RV(probes))
  type: dict
body:
  description: Start of the response body.
  returned: when the server answered and O(body) is true
  type: str
error:
  description: What went wrong, in words.
  returned: unless O(server_names) is set (then in each of RV(probes))
  type: str
error_kind:
  description: One of V(refused), V(timeout), V(unreachable), V(certificate), V(tls), V(http); null on success.
  returned: unless O(server_names) is set (then in each of RV(probes))
  type: str
"""

from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.homelab.nas.plugins.module_utils import tls_probe

VERSIONS = ["1.0", "1.1", "1.2", "1.3"]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            host=dict(type="str"),
            port=dict(type="int", default=443),
            server_name=dict(type="str"),
            server_names=dict(type="list", elements="str"),
            parallel=dict(type="int", default=8),
            path=dict(type="str", default="/"),
            tls=dict(type="bool", default=True),
            method=dict(type="str", choices=["GET", "HEAD"], default="GET"),
            headers=dict(type="dict", default={}),
            return_headers=dict(type="list", elements="str"),
            body=dict(type="bool", default=True),
            validate_certs=dict(type="bool", default=True),
            ca_path=dict(type="path"),
            client_cert=dict(type="path"),
            client_key=dict(type="path", no_log=False),
            min_tls_version=dict(type="str", choices=VERSIONS),
            max_tls_version=dict(type="str", choices=VERSIONS),
            timeout=dict(type="float", default=10),
        ),
        required_one_of=[("host", "server_name", "server_names")],
        mutually_exclusive=[("server_name", "server_names")],
        required_by={"client_key": "client_cert"},
        supports_check_mode=True,
    )
    if not tls_probe.HAS_CRYPTOGRAPHY:
        module.fail_json(msg=missing_required_lib("cryptography"), exception=str(tls_probe.CRYPTOGRAPHY_IMPORT_ERROR))
    p = module.params
    low, high = p["min_tls_version"], p["max_tls_version"]
    if low and high and VERSIONS.index(low) > VERSIONS.index(high):
        module.fail_json(msg="min_tls_version %s is above max_tls_version %s" % (low, high))
    if p["parallel"] < 1:
        module.fail_json(msg="parallel is %d; it must be 1 or more" % p["parallel"])
    if p["server_names"] is not None and not all(name and name.strip() for name in p["server_names"]):
        module.fail_json(msg="server_names has an empty name; give each hostname to probe")
    wanted = None if p["return_headers"] is None else {name.strip().lower() for name in p["return_headers"]}
    ssl_context = None
    if p["tls"]:
        try:
            ssl_context = tls_probe.context(
                validate_certs=p["validate_certs"],
                ca_path=p["ca_path"],
                client_cert=p["client_cert"],
                client_key=p["client_key"],
                min_version=low,
                max_version=high,
            )
        except (OSError, ValueError) as exc:  # unreadable ca_path / client certificate
            module.fail_json(msg="cannot set up the TLS client: %s" % exc)

    def probe(server_name):
        result = tls_probe.probe(
            p["host"] or server_name,
            p["port"],
            server_name,
            path=p["path"],
            tls=p["tls"],
            method=p["method"],
            headers=p["headers"],
            timeout=p["timeout"],
            ssl_context=ssl_context,
        )
        if result["certificate"]:
            result["covers"] = tls_probe.covers(result["certificate"]["sans"], server_name)
        if not p["body"]:
            del result["body"]
        if wanted is not None:
            result["headers"] = {k: v for k, v in result["headers"].items() if k in wanted}
        return result

    if p["server_names"] is None:
        module.exit_json(changed=False, **probe(p["server_name"] or p["host"]))
    names = p["server_names"]
    with ThreadPoolExecutor(max_workers=max(1, min(p["parallel"], len(names)))) as pool:
        probes = [dict(result, server_name=name) for name, result in zip(names, pool.map(probe, names))]
    module.exit_json(changed=False, probes=probes)


if __name__ == "__main__":
    main()
