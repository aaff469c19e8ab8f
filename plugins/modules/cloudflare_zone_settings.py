#!/usr/bin/python
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_zone_settings
short_description: Set a Cloudflare zone's TLS and security settings in one idempotent step
version_added: 1.0.0
description:
  - Brings zone settings such as the SSL/TLS encryption mode, minimum TLS version, TLS 1.3, Always Use HTTPS,
    Automatic HTTPS Rewrites, Opportunistic Encryption, Authenticated Origin Pulls and HSTS to the declared values.
  - Reads every setting with one request and changes all that differ with one bulk request (falling back to one
    request per setting where the bulk call is refused).
  - Unknown settings, invalid values, settings the zone's plan does not allow changing, and HSTS preload without
    the preload list's requirements are refused before anything is changed.
author:
  - homelab.nas maintainers (@homelab-nas)
extends_documentation_fragment:
  - homelab.nas.cloudflare
  - homelab.nas.cloudflare.zone
  - homelab.nas.attributes
  - homelab.nas.attributes.full
options:
  settings:
    description:
      - Setting names and values. Cloudflare's ids (V(ssl), V(min_tls_version), V(tls_1_3), V(always_use_https),
        V(automatic_https_rewrites), V(opportunistic_encryption), V(tls_client_auth)...) and the dashboard's names
        (V(ssl_mode), V(minimum_tls_version), V(authenticated_origin_pulls)) are both understood.
      - V(ssl) accepts V(off), V(flexible), V(full), V(strict) ("Full (strict)") and V(origin_pull)
        ("Strict (SSL-Only Origin Pull)", Enterprise plans only); on/off settings accept booleans.
    type: dict
    default: {}
  hsts:
    description:
      - HTTP Strict Transport Security (Cloudflare's C(security_header) setting).
      - O(hsts.preload) requires O(hsts.max_age) of at least 31536000 and O(hsts.include_subdomains), as the HSTS
        preload list does.
    type: dict
    suboptions:
      enabled:
        description: Send the header.
        type: bool
        default: true
      max_age:
        description: Seconds browsers remember to use HTTPS only (15552000 is 6 months).
        type: int
        default: 15552000
      include_subdomains:
        description: Apply to every subdomain.
        type: bool
        default: false
      preload:
        description: Ask to be preloaded in browsers.
        type: bool
        default: false
      nosniff:
        description: "Also send C(X-Content-Type-Options: nosniff)."
        type: bool
        default: false
"""

EXAMPLES = r"""
- name: The second seed article's Cloudflare settings
  homelab.nas.cloudflare_zone_settings:
    zone: example.com
    settings:
      ssl_mode: Full (strict)
      minimum_tls_version: "1.2"
      tls_1_3: "on"
      opportunistic_encryption: true
      automatic_https_rewrites: true
      always_use_https: true
      authenticated_origin_pulls: true
    hsts:
      max_age: 15552000
      include_subdomains: true
      nosniff: true
  module_defaults:
    group/homelab.nas.cloudflare:
      api_token: "{{ vault_cloudflare_token }}"
"""

RETURN = r"""
settings:
  description: The managed settings' values after the task (planned values in check mode), by Cloudflare id.
  returned: always
  type: dict
  sample: {ssl: strict, min_tls_version: "1.2", always_use_https: "on"}
changed_settings:
  description: Ids of the settings that were (or would be) changed.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.homelab.nas.plugins.module_utils import cloudflare_settings as cfs
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_module import CloudflareModule


def run(mod, wanted):
    api = cfs.ZoneSettings(mod.client, mod.zone_id)
    current = api.all()
    unknown = sorted(set(wanted) - set(current))
    if unknown:
        mod.fail_json(
            msg="settings: %s not a setting of zone %s; known settings include %s"
            % (
                ", ".join(unknown) + (" is" if len(unknown) == 1 else " are"),
                mod.params["zone"],
                ", ".join(sorted(cfs.ENUMS)),
            )
        )
    before = {sid: current[sid]["value"] for sid in wanted}
    after = dict(before)
    after.update(wanted)
    changes = {sid: v for sid, v in wanted.items() if before[sid] != v}
    locked = sorted(sid for sid in changes if current[sid].get("editable") is False)
    if locked:
        mod.fail_json(
            msg="settings: %s cannot be changed on this zone's plan (Cloudflare marks them not "
            "editable); remove them or upgrade the plan" % ", ".join(locked)
        )
    return mod.converge(
        before, after, lambda: api.change(changes), dict(settings=after, changed_settings=sorted(changes))
    )


def main():
    module = CloudflareModule(
        argument_spec=dict(
            settings=dict(type="dict", default={}),
            hsts=dict(
                type="dict",
                options=dict(
                    enabled=dict(type="bool", default=True),
                    max_age=dict(type="int", default=15552000),
                    include_subdomains=dict(type="bool", default=False),
                    preload=dict(type="bool", default=False),
                    nosniff=dict(type="bool", default=False),
                ),
            ),
        ),
        supports_check_mode=True,
    )
    module.run(run, validate=lambda p: cfs.desired_settings(p["settings"], p["hsts"]))


if __name__ == "__main__":
    main()
