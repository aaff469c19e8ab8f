"""A logged-in DsmClient on the mock DSM, for the wrapper tests."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.nas.plugins.module_utils.dsm_client import DsmClient


@pytest.fixture
def client(dsm_lab, tmp_path):
    dsm = DsmClient(**dsm_lab.client_args(session_cache=False, backoff_factor=0))
    dsm.login()
    yield dsm
    dsm.close()


def writes(lab):
    """(API, method) of every call but the reads and the login."""
    return [(c["api"], c["method"]) for c in lab.calls()
            if c["method"] not in ("get", "list", "login", "query", "getinfo", "request", "status", "logout")]
