"""dsm_security against the mock DSM: every section read in one request, written where it differs."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.nas.plugins.module_utils import dsm_security as security, dsm_validate as v

PARAMS = dict(
    trusted_proxies=["173.245.48.0/20"],
    dos_protection={"eth0": True},
    auto_block=dict(
        enabled=True, attempts=5, within_minutes=5, expire_days=0, allow_list=["10.0.0.1"], block_list=None
    ),
    account_protection=None,
    two_factor_enforcement="administrators",
)


def test_read_is_one_compound_request(dsm_client, dsm_lab):
    want = security.desired(PARAMS)
    dsm_lab.clear_log()
    have = security.read(dsm_client, want)
    assert have["trusted_proxies"] == [] and have["dos_protection"] == {"eth0": False}
    assert have["auto_block"]["allow_list"] == [] and have["two_factor_enforcement"] == "none"
    assert [(c["api"], c["method"]) for c in dsm_lab.calls()] == [("SYNO.Entry.Request", "request")]


def test_apply_writes_only_what_differs_and_reads_back_equal(dsm_client, dsm_lab, dsm_writes):
    want = security.desired(PARAMS)
    security.apply(dsm_client, want, security.read(dsm_client, want))
    assert dsm_lab.state()["security"]["otp_enforce_option"] == "admin"
    have = security.read(dsm_client, want)
    have["dos_protection"] = {a: have["dos_protection"][a] for a in want["dos_protection"]}
    assert have == want
    dsm_lab.clear_log()
    security.apply(dsm_client, want, have)
    assert dsm_writes() == []


def test_desired_names_the_field():
    with pytest.raises(v.InputError, match=r"^trusted_proxies\[0\]: '10.0.0.1/8' has host bits set"):
        security.desired(dict(PARAMS, trusted_proxies=["10.0.0.1/8"]))
