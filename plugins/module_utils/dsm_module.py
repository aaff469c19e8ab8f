# -*- coding: utf-8 -*-
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Base class of the DSM modules: shared connection options, one client, one failure path."""

from __future__ import annotations

import traceback

from ansible.module_utils.basic import AnsibleModule, env_fallback, missing_required_lib

from ansible_collections.homelab.nas.plugins.module_utils.dsm_client import (
    DsmClient, HAS_REQUESTS, REQUESTS_IMPORT_ERROR)
from ansible_collections.homelab.nas.plugins.module_utils.dsm_errors import DsmError


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
        timeout=dict(type="int", default=30),
        session_cache=dict(type="bool", default=True),
        session_cache_dir=dict(type="path", fallback=(env_fallback, ["HOMELAB_NAS_SESSION_CACHE_DIR"])),
    )


class DsmModule(AnsibleModule):
    """AnsibleModule with the DSM connection options and a lazily created client."""

    def __init__(self, argument_spec=None, **kwargs):
        spec = dsm_argument_spec()
        spec.update(argument_spec or {})
        super().__init__(argument_spec=spec, **kwargs)
        if not HAS_REQUESTS:
            self.fail_json(msg=missing_required_lib("requests"), exception=str(REQUESTS_IMPORT_ERROR))
        self._client = None

    @property
    def client(self):
        if self._client is None:
            p = self.params
            port = p["port"]
            if port is not None and not 1 <= port <= 65535:
                self.fail_json(msg="port: %s is not a TCP port; use 1-65535 (DSM's defaults are 5001 for "
                                   "HTTPS, 5000 for HTTP)" % port)
            self._client = DsmClient(
                host=p["host"], port=port, username=p["username"], password=p["password"],
                use_https=p["use_https"], validate_certs=p["validate_certs"], ca_path=p["ca_path"],
                timeout=p["timeout"], otp_code=p["otp_code"], device_id=p["device_id"],
                device_name=p["device_name"], enable_device_token=p["enable_device_token"],
                session_cache=p["session_cache"], session_cache_dir=p["session_cache_dir"])
        return self._client

    def run(self, body):
        """Run `body(module)` -> result dict; DSM errors become one clear fail_json.

        The client is closed however the body ends (fail_json raises SystemExit), so a task
        without the session cache never leaves a session open on DSM.
        """
        try:
            try:
                result = body(self)
            except DsmError as exc:
                self.fail_json(msg=str(exc), error_code=exc.code, api=exc.api)
            except Exception as exc:  # noqa: BLE001 - last resort: report, with traceback, never secrets
                self.fail_json(msg="unexpected error: %s" % exc, exception=traceback.format_exc())
        finally:
            self._close_client()
        self.exit_json(**result)

    def _close_client(self):
        if self._client is not None:
            try:
                self._client.close()
            except DsmError:
                pass
