# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""Base class of the API modules: the one control flow every module shares.

required libraries -> validate(params) -> client (created lazily) -> body -> converge(before, after, apply).
Check mode and diff are honoured in converge() and nowhere else; every API error becomes the same failure
shape (HomelabError.fail_kwargs()), with whatever the task already learnt or changed (`partial`).

Standard library and ansible-core only: the router module (stdlib-only, Python 3.8) builds on it too.
"""

from __future__ import annotations

import re
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.homelab.nas.plugins.module_utils.errors import HomelabError, HomelabInputError

# A private key wherever it was put (a certificate option, a chain): never shown in a result or a log.
PRIVATE_KEY_BLOCK = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)", re.S
)


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


class ApiModule(AnsibleModule):
    """Subclasses set `error_class`, `required_libraries` and implement `make_client()`."""

    error_class = HomelabError
    # name -> (HAS_X, IMPORT_ERROR); checked once, before validation, by check_required_libraries().
    required_libraries = {}

    def __init__(self, *args, **kwargs):
        libraries = kwargs.pop("required_libraries", None) or {}
        super().__init__(*args, **kwargs)
        self._client = None
        # What a failure reports besides the error: a module adds what it learnt or changed as it goes.
        self.partial = {}
        self.check_required_libraries(dict(self.required_libraries, **libraries))

    def _mask_private_keys(self):
        for text in _strings(getattr(self, "params", None) or {}):
            self.no_log_values.update(PRIVATE_KEY_BLOCK.findall(text))

    # AnsibleModule logs the parameters at the end of __init__ and returns them with every result
    # (`invocation`): both go through these two, so a key block is masked wherever it was put.
    def _log_invocation(self):
        self._mask_private_keys()
        super()._log_invocation()

    def _return_formatted(self, kwargs):
        self._mask_private_keys()
        super()._return_formatted(kwargs)

    def check_required_libraries(self, libraries):
        for name, (present, error) in sorted(libraries.items()):
            if not present:
                self.fail_json(msg=missing_required_lib(name), exception=str(error))

    @property
    def client(self):
        if self._client is None:
            self._client = self.make_client()
        return self._client

    def make_client(self):
        raise NotImplementedError

    def validated(self, validate):
        """`validate(params) -> wanted`, before any client exists; an input error fails naming the field."""
        try:
            return validate(self.params)
        except HomelabInputError as exc:
            self.fail_json(msg=str(exc), **self.partial)

    def converge(self, before, after, apply, result=None, after_apply=None):
        """The result of moving `before` to `after`: changed, diff (before -> after), and `apply()` called
        only when something changes and not in check mode. apply may return a dict of result updates.

        after_apply: when the state apply produced is only known once it ran (a certificate the CA issued),
        `after_apply()` gives it, and the diff's after is that instead of the predicted `after` (which check
        mode, and a task that changes nothing, show)."""
        result = dict(result or {})
        result["changed"] = before != after
        if self._diff:
            result["diff"] = dict(before=before, after=after)
        if result["changed"] and not self.check_mode:
            updates = apply()
            if updates:
                result.update(updates)
            if after_apply is not None and self._diff:
                result["diff"]["after"] = after_apply()
        return result

    def fail(self, msg, **kwargs):
        """fail_json with what the task already did (`partial`)."""
        self.fail_json(msg=msg, **dict(self.partial, **kwargs))

    def check_connection(self, params):
        """The connection options, checked before the task's own: raise HomelabInputError naming the option."""
        timeout = params.get("timeout")
        if timeout is not None and timeout <= 0:
            raise HomelabInputError("timeout: %s seconds cannot work; give a number of seconds above 0" % timeout)

    def run(self, body, validate=None):
        """Validate, then `body(module, wanted)` -> result dict; the client is closed however the task ends."""
        self.validated(self.check_connection)
        wanted = self.validated(validate) if validate else None
        try:
            try:
                result = body(self, wanted)
            except Exception as exc:  # noqa: BLE001 - the API's errors, and a last resort for the rest
                if isinstance(exc, HomelabError):  # every API error (error_class), and file_lock.LockError
                    self.fail(str(exc), **exc.fail_kwargs())
                if isinstance(exc, HomelabInputError):
                    self.fail(str(exc))
                self.fail("unexpected error: %s" % exc, exception=traceback.format_exc())
        finally:
            self._close_client()
        self.exit_json(**dict(self.partial, **result))

    def _close_client(self):
        if self._client is not None:
            try:
                self._client.close()
            except self.error_class:
                pass
