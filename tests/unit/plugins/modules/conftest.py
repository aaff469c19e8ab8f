"""The module tests inject many 5xx faults into the mocks' reads. A module's client backs off between its read
retries as urllib3 does (1 s, 2 s, ... of real time), which these tests count but do not time; here that backoff is
none. A Retry-After Cloudflare sends is still waited for (urllib3 sleeps for it apart from the backoff)."""

from __future__ import annotations

import pytest
from urllib3.util.retry import Retry


@pytest.fixture(autouse=True)
def _no_backoff_between_retries(monkeypatch):
    monkeypatch.setattr(Retry, "get_backoff_time", lambda self: 0)
