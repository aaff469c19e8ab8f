# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""Cloudflare modules' base: the shared connection options and the Cloudflare client."""

from __future__ import annotations

import contextlib

from ansible.module_utils.basic import env_fallback

from ansible_collections.homelab.nas.plugins.module_utils import file_lock
from ansible_collections.homelab.nas.plugins.module_utils.api_module import ApiModule
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_client import (
    DEFAULT_BASE_URL,
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    CloudflareClient,
    CloudflareError,
)
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_zone_cache import ZoneIds
from ansible_collections.homelab.nas.plugins.module_utils.errors import HomelabInputError


def cloudflare_argument_spec(zone=True):
    """The options documented in the homelab.nas.cloudflare doc fragment."""
    spec = dict(
        api_token=dict(type="str", required=True, no_log=True, fallback=(env_fallback, ["CLOUDFLARE_API_TOKEN"])),
        api_base_url=dict(type="str", default=DEFAULT_BASE_URL, fallback=(env_fallback, ["CLOUDFLARE_API_BASE_URL"])),
        allow_insecure_http=dict(type="bool", default=False),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        timeout=dict(type="int", default=30),
    )
    if zone:
        spec["zone"] = dict(type="str", required=True, aliases=["zone_name"])
        spec["zone_cache"] = dict(type="bool", default=True)
    return spec


class CloudflareModule(ApiModule):
    error_class = CloudflareError
    required_libraries = {"requests": (HAS_REQUESTS, REQUESTS_IMPORT_ERROR)}

    def __init__(self, argument_spec=None, zone=True, **kwargs):
        spec = cloudflare_argument_spec(zone=zone)
        spec.update(argument_spec or {})
        super().__init__(argument_spec=spec, **kwargs)

    def check_connection(self, params):
        super().check_connection(params)
        url = params["api_base_url"] or ""
        scheme = url.split("://", 1)[0].lower() if "://" in url else ""
        if scheme not in ("https", "http"):
            raise HomelabInputError("api_base_url: '%s' is not an https:// URL" % url)
        if scheme == "http" and not params["allow_insecure_http"]:
            raise HomelabInputError(
                "api_base_url: %s would send the API token unencrypted; use https://, or set "
                "allow_insecure_http: true for a stand-in on a trusted network" % url
            )

    def make_client(self):
        p = self.params
        zone_cache = ZoneIds(p["api_base_url"].rstrip("/"), p["api_token"]) if p.get("zone_cache") else None
        return CloudflareClient(
            p["api_token"],
            base_url=p["api_base_url"],
            validate_certs=p["validate_certs"],
            ca_path=p["ca_path"],
            timeout=p["timeout"],
            zone_cache=zone_cache,
        )

    def run(self, body, validate=None):
        def body_with_a_fresh_zone_id(module, wanted):
            try:
                return body(module, wanted)
            except CloudflareError as exc:
                # A cached zone id Cloudflare no longer knows, before any write: look the zone up again, once.
                if not module.client.forget_stale_zone(exc):
                    raise
                return body(module, wanted)

        super().run(body_with_a_fresh_zone_id, validate)

    @property
    def zone_id(self):
        return self.client.zone_id(self.params["zone"])

    def zone_locked(self):
        """The zone's lock (file_lock.named_lock) for a read-then-write of its records, which Cloudflare does not
        keep unique: tasks of this controller (forks, overlapping runs) take turns. Nothing in check mode."""
        if self.check_mode:
            return contextlib.nullcontext()
        lock = file_lock.named_lock("cloudflare-zone", self.params["api_base_url"], self.zone_id)
        return file_lock.locked(lock, what="Cloudflare zone %s" % self.params["zone"])
