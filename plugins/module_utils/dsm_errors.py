# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""DSM Web API error codes and the exception every DSM call raises."""

from __future__ import annotations

from ansible_collections.homelab.nas.plugins.module_utils.errors import HomelabError

# Codes every DSM API can answer (Synology developer guides).
COMMON_ERRORS = {
    100: "unknown error",
    101: "the request lacks the api, method or version parameter",
    102: "the requested API does not exist",
    103: "the requested method does not exist (DSM also answers 103 when a session that has a SynoToken "
    "sends a request without it)",
    104: "the requested API version is not supported",
    105: "the logged-in user has no permission for this API (use an account in the administrators group)",
    106: "the session timed out",
    107: "the session was interrupted by a duplicate login",
    108: "failed to upload the file",
    109: "the network connection is unstable or the system is busy",
    110: "the network connection is unstable or the system is busy",
    111: "the network connection is unstable or the system is busy",
    112: "preserve for other purpose",
    113: "preserve for other purpose",
    114: "lost parameters for this API",
    115: "not allowed to upload a file",
    116: "not allowed to perform this request in demo mode",
    117: "the network connection is unstable or the system is busy",
    118: "the network connection is unstable or the system is busy",
    119: "the session id is invalid or expired, or the SynoToken was rejected",
    120: "a parameter is invalid or missing",
}

SESSION_ERRORS = frozenset((106, 107, 119))

# API family (an API name; its sub-APIs share its table) -> {code: message}, registered by the wrapper that owns
# the family (register()): the auth codes by dsm_client.py, the certificate codes by dsm_certificates.py.
FAMILY_ERRORS = {}


def register(family, table):
    """Let `describe` give `table`'s messages for the codes `family` and its sub-APIs (`family.X`) answer."""
    FAMILY_ERRORS[family] = table


def family_message(code, api):
    """The message of the most specific registered family of `api` that knows `code`, or None."""
    for family in sorted(FAMILY_ERRORS, key=len, reverse=True):
        if (api == family or api.startswith(family + ".")) and code in FAMILY_ERRORS[family]:
            return FAMILY_ERRORS[family][code]
    return None


def describe(code, api=None, details=None):
    """Return a human message for a DSM error code, naming the API family (and the parameter DSM named)."""
    if code == 120 and isinstance(details, dict) and details.get("name"):
        return "parameter '%s' is invalid (%s)" % (details["name"], details.get("reason") or "rejected")
    return (api and family_message(code, api)) or COMMON_ERRORS.get(code, "DSM error code %s" % code)


class DsmError(HomelabError):
    """Any failure talking to DSM. `code` is DSM's error code when DSM answered one."""

    def __init__(self, message, code=None, api=None, method=None, status=None):
        super().__init__(message, code=code, api=api, method=method, status=status)
        self.details = None

    @classmethod
    def from_code(cls, code, api, method, details=None):
        """details: DSM's `error.errors`, which names the offending parameter for 120."""
        error = cls(
            "%s.%s failed with DSM error %s: %s" % (api, method, code, describe(code, api, details)),
            code=code,
            api=api,
            method=method,
        )
        error.details = details
        return error
