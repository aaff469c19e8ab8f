"""A CloudflareClient on the mock API, for the wrapper tests."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_client import CloudflareClient
from tests.lab.mock_cloudflare.seed import LAB_TOKEN


@pytest.fixture
def cf(cloudflare_lab):
    client = CloudflareClient(LAB_TOKEN, base_url=cloudflare_lab.api_base_url, ca_path=cloudflare_lab.ca_path,
                              backoff_factor=0)
    yield client
    client.close()
