# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""DSM modules' base: the shared connection options and the DSM client."""

from __future__ import annotations

from ansible.module_utils.basic import env_fallback

from ansible_collections.homelab.nas.plugins.module_utils import dsm_validate, file_lock
from ansible_collections.homelab.nas.plugins.module_utils.api_module import ApiModule
from ansible_collections.homelab.nas.plugins.module_utils.dsm_client import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    DsmClient,
    normalise_fingerprint,
)
from ansible_collections.homelab.nas.plugins.module_utils.dsm_errors import DsmError
from ansible_collections.homelab.nas.plugins.module_utils.errors import HomelabInputError


def dsm_argument_spec():
    """The options documented in the homelab.nas.dsm doc fragment."""
    return dict(
        host=dict(type="str", required=True, fallback=(env_fallback, ["DSM_HOST"])),
        port=dict(type="int", fallback=(env_fallback, ["DSM_PORT"])),
        use_https=dict(type="bool", default=True),
        username=dict(type="str", required=True, fallback=(env_fallback, ["DSM_USERNAME"])),
        password=dict(type="str", required=True, no_log=True, fallback=(env_fallback, ["DSM_PASSWORD"])),
        otp_code=dict(type="str", no_log=True),
        device_id=dict(type="str", no_log=True, fallback=(env_fallback, ["DSM_DEVICE_ID"])),
        device_name=dict(type="str", default="homelab.nas"),
        enable_device_token=dict(type="bool", default=False),
        validate_certs=dict(type="bool", default=True),
        ca_path=dict(type="path"),
        tls_fingerprints=dict(type="list", elements="str", fallback=(env_fallback, ["DSM_TLS_FINGERPRINTS"])),
        timeout=dict(type="int", default=30),
        session_cache=dict(type="bool", default=True),
        session_cache_dir=dict(type="path", fallback=(env_fallback, ["HOMELAB_NAS_SESSION_CACHE_DIR"])),
    )


class DsmModule(ApiModule):
    """ApiModule with the DSM connection options and a DsmClient."""

    error_class = DsmError
    required_libraries = {"requests": (HAS_REQUESTS, REQUESTS_IMPORT_ERROR)}

    def __init__(self, argument_spec=None, **kwargs):
        spec = dsm_argument_spec()
        spec.update(argument_spec or {})
        super().__init__(argument_spec=spec, **kwargs)
        if not self.params["validate_certs"] and self.params["use_https"]:
            self.warn(
                "validate_certs is false: DSM's certificate is not verified, so anyone on the path could read the "
                "password. Pin DSM's certificate instead (tls_fingerprints; docs/real-nas.md, first contact)"
            )

    def check_connection(self, params):
        """The connection options (ApiModule.run checks them before the task's own, before any request)."""
        super().check_connection(params)
        if params["port"] is not None:
            dsm_validate.port("port", params["port"], hint=" (DSM's defaults are 5001 for HTTPS, 5000 for HTTP)")
        for index, value in enumerate(params["tls_fingerprints"] or []):
            normalise_fingerprint("tls_fingerprints[%d]" % index, value)
        if params["tls_fingerprints"] and not params["validate_certs"]:
            raise HomelabInputError(
                "tls_fingerprints: pins are a way of verifying DSM's certificate and validate_certs is false; "
                "set validate_certs: true (the default) to use them"
            )

    def run(self, body, validate=None):
        """ApiModule.run with this DSM's lock held around the body when it changes something (docs/architecture.md,
        "Locks"): DSM's lists and profiles are read, changed and written back whole, so this controller's tasks on
        one DSM (forks, overlapping runs) take turns rather than write over each other or create a thing twice.
        The body first runs as check mode runs it, without the lock: a task that changes nothing (every task of a
        rerun) returns that and never waits for a turn; one that changes something runs again, reading afresh,
        under the lock. Every write is in converge()'s apply, which check mode never calls."""

        def locked(mod, wanted):
            if mod.check_mode:
                return body(mod, wanted)
            mod.check_mode = True
            try:
                preview = body(mod, wanted)
            finally:
                mod.check_mode = False
            if not preview.get("changed"):
                return preview
            base_url = mod.client.base_url
            with file_lock.locked(file_lock.named_lock("dsm", base_url), what="DSM at %s" % base_url):
                return body(mod, wanted)

        super().run(locked, validate)

    def make_client(self):
        p = self.params
        return DsmClient(
            host=p["host"],
            port=p["port"],
            username=p["username"],
            password=p["password"],
            use_https=p["use_https"],
            validate_certs=p["validate_certs"],
            ca_path=p["ca_path"],
            tls_fingerprints=p["tls_fingerprints"],
            timeout=p["timeout"],
            otp_code=p["otp_code"],
            device_id=p["device_id"],
            device_name=p["device_name"],
            enable_device_token=p["enable_device_token"],
            session_cache=p["session_cache"],
            session_cache_dir=p["session_cache_dir"],
        )
