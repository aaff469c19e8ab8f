"""Clients on the mocks for the wrapper tests (test_dsm_*, test_cloudflare_*)."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_client import CloudflareClient
from ansible_collections.homelab.nas.plugins.module_utils.dsm_client import DsmClient
from tests.lab.mock_cloudflare.seed import LAB_TOKEN

READS = ("get", "list", "login", "query", "getinfo", "request", "status", "logout")


@pytest.fixture
def dsm_client(dsm_lab):
    """A logged-in DsmClient on the mock DSM (no session cache)."""
    client = DsmClient(**dsm_lab.client_args(session_cache=False, backoff_factor=0))
    client.login()
    yield client
    client.close()


@pytest.fixture
def dsm_writes(dsm_lab):
    """(API, method) of every call to the mock DSM but the reads and the login."""
    return lambda: [(c["api"], c["method"]) for c in dsm_lab.calls() if c["method"] not in READS]


@pytest.fixture
def cf_client(cloudflare_lab):
    client = CloudflareClient(
        LAB_TOKEN, base_url=cloudflare_lab.api_base_url, ca_path=cloudflare_lab.ca_path, backoff_factor=0
    )
    yield client
    client.close()
