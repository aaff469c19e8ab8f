#!/usr/bin/python
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: dsm_info
short_description: Read facts from Synology DSM (version, certificates and their bindings)
version_added: 1.0.0
description:
  - Reads the DSM model and version, and every certificate with its fingerprint, validity, default flag
    and the services bound to it. Changes nothing; for audits and tests.
author:
  - homelab.nas maintainers (@homelab-nas)
extends_documentation_fragment:
  - homelab.nas.dsm
  - homelab.nas.attributes
  - homelab.nas.attributes.info_module
options:
  gather:
    description:
      - What to read.
    type: list
    elements: str
    choices: [system, certificates]
    default: [system, certificates]
  fingerprints:
    description:
      - Read each certificate's PEM through DSM's export call to report SHA-256 fingerprints
        (one extra request per certificate). The exported private keys are discarded.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Audit the certificates of the NAS
  homelab.nas.dsm_info:
    host: nas.lan
    username: ansible
    password: "{{ vault_dsm_password }}"
  register: nas

- name: Fail when the default certificate expires within 30 days
  ansible.builtin.assert:
    that: >-
      ((nas.certificates | selectattr('default') | first).not_after | to_datetime('%Y-%m-%dT%H:%M:%SZ')
      - now(utc=true)).days > 30
"""

RETURN = r"""
system:
  description: Model and DSM version.
  returned: when system is gathered
  type: dict
  contains:
    model:
      description: Model name.
      type: str
    version:
      description: DSM build number.
      type: str
    version_string:
      description: DSM version as DSM displays it.
      type: str
  sample: {model: DS920+, version: "72806", version_string: DSM 7.2.2-72806 Update 3}
certificates:
  description: The certificates on DSM.
  returned: when certificates are gathered
  type: list
  elements: dict
  contains:
    id:
      description: DSM id.
      type: str
    description:
      description: DSM description.
      type: str
    default:
      description: Whether it is the default certificate.
      type: bool
    subject:
      description: Subject common name.
      type: str
    issuer:
      description: Issuer common name.
      type: str
    sans:
      description: Subject alternative names (DNS).
      type: list
      elements: str
    not_before:
      description: Start of validity as DSM reports it.
      type: str
    not_after:
      description: End of validity, UTC (from the PEM when fingerprints are read, else as DSM reports it).
      type: str
    services:
      description: Names of the services bound to it.
      type: list
      elements: str
    fingerprint_sha256:
      description: SHA-256 fingerprint, when O(fingerprints=true).
      type: str
    chain_fingerprints_sha256:
      description: SHA-256 fingerprints of the chain, when O(fingerprints=true).
      type: list
      elements: str
"""

from ansible_collections.homelab.nas.plugins.module_utils.dsm_certificates import DsmCertificates
from ansible_collections.homelab.nas.plugins.module_utils.dsm_module import DsmModule
from ansible_collections.homelab.nas.plugins.module_utils.dsm_system import DsmSystem


def main():
    module = DsmModule(
        argument_spec=dict(
            gather=dict(
                type="list", elements="str", choices=["system", "certificates"], default=["system", "certificates"]
            ),
            fingerprints=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )

    def body(mod, _wanted):
        result = dict(changed=False)
        if "system" in mod.params["gather"]:
            result["system"] = DsmSystem(mod.client).info()
        if "certificates" in mod.params["gather"]:
            api = DsmCertificates(mod.client)
            result["certificates"] = [api.record(c, with_pem=mod.params["fingerprints"]) for c in api.list()]
        return result

    module.run(body)


if __name__ == "__main__":
    main()
