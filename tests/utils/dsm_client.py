"""A DSM client for tests that act as DSM's UI or as DSM itself would (an edit in the UI, a scheduled run): a fresh
conversation with the mock DSM as the lab's `ansible` account, trusting the lab CA, with no session cache and no
retries, logged out when its `with` block ends."""

from __future__ import annotations

from contextlib import closing

from ansible_collections.homelab.nas.plugins.module_utils.dsm_client import DsmClient
from tests.lab.mock_dsm.seed import LAB_PASSWORD


def lab_client(dsm_lab, **overrides):
    """DsmClient(...) for `dsm_lab`; overrides replace or add options (tls_fingerprints=[...] with ca_path=None)."""
    args = dict(
        host=dsm_lab.host,
        port=dsm_lab.https_port,
        username="ansible",
        password=LAB_PASSWORD,
        ca_path=dsm_lab.ca_path,
        session_cache=False,
        read_retries=0,
        timeout=10,
    )
    args.update(overrides)
    return DsmClient(**args)


def lab_session(dsm_lab, **overrides):
    """lab_client() for a `with` block."""
    return closing(lab_client(dsm_lab, **overrides))
