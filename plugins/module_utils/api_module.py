# -*- coding: utf-8 -*-
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Base class of the API modules: one lazily created client, closed however the task ends,
and one failure path that turns the API's errors into a clear fail_json."""

from __future__ import annotations

import traceback

from ansible.module_utils.basic import AnsibleModule


class ApiModule(AnsibleModule):
    """Subclasses set `error_class` and implement `make_client()` and `error_details(exc)`."""

    error_class = Exception

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._client = None

    @property
    def client(self):
        if self._client is None:
            self._client = self.make_client()
        return self._client

    def make_client(self):
        raise NotImplementedError

    def error_details(self, exc):
        return {}

    def run(self, body):
        """Run `body(module)` -> result dict. fail_json raises SystemExit, so `finally` covers it too."""
        try:
            try:
                result = body(self)
            except Exception as exc:  # noqa: BLE001 - the API's errors, and a last resort for the rest
                if isinstance(exc, self.error_class):
                    self.fail_json(msg=str(exc), **self.error_details(exc))
                self.fail_json(msg="unexpected error: %s" % exc, exception=traceback.format_exc())
        finally:
            self._close_client()
        self.exit_json(**result)

    def _close_client(self):
        if self._client is not None:
            try:
                self._client.close()
            except self.error_class:
                pass
