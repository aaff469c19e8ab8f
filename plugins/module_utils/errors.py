# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""The two error bases of the collection: a failed API call, and input that cannot be used.

Standard library only: the router module (stdlib-only, Python 3.8) imports it too.
"""

from __future__ import annotations


class HomelabError(Exception):
    """A failure talking to an API (DSM, Cloudflare, a UPnP router).

    code: the API's own error code; api: the API (DSM API name, Cloudflare path, UPnP service);
    method: the API method (DSM method, HTTP verb, SOAP action); status: the HTTP status. None when unknown.
    """

    def __init__(self, message, code=None, api=None, method=None, status=None):
        super().__init__(message)
        self.code = code
        self.api = api
        self.method = method
        self.status = status

    def extra_fail_kwargs(self):
        """Family-specific result keys kept beside the common ones (older names users may test)."""
        return {}

    def fail_kwargs(self):
        """The failure result keys, the same four for every API; always present, None when unknown."""
        kwargs = dict(error_code=self.code, api=self.api, method=self.method, status=self.status)
        kwargs.update(self.extra_fail_kwargs())
        return kwargs


class HomelabInputError(ValueError):
    """Input that cannot be used; the message starts with the field and says how to fix it."""
