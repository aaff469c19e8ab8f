# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""requests and urllib3's Retry, imported once for the HTTP clients (a missing library is reported, not raised)."""

from __future__ import annotations

try:
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    HAS_REQUESTS = True
    REQUESTS_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised by ansible-test's import test
    requests = HTTPAdapter = None
    Retry = object
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = exc


def session_with_retries(retry):
    """A requests session whose adapters retry as `retry` says."""
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


__all__ = ["HAS_REQUESTS", "REQUESTS_IMPORT_ERROR", "Retry", "requests", "session_with_retries"]
