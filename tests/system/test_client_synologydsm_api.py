"""py-synologydsm-api (the library Home Assistant's Synology DSM integration uses), unchanged, against the mock DSM.

It discovers APIs with SYNO.API.Info and refuses, on the client side, any API that is not listed
(SynologyDSMAPINotExistsException), so these tests also show that the mock lists what it serves.
It logs in without a SynoToken and asks for a device token on every login; 2FA accounts get the
token after an OTP login and send it as `device_id` next time. Each client runs over HTTPS and
verifies the mock's certificate with the lab CA.
"""

from __future__ import annotations

import asyncio
import socket
import ssl

import aiohttp
import pyotp
import pytest
from synology_dsm import SynologyDSM
from synology_dsm.exceptions import (
    SynologyDSMAPIInsufficientPrivilegeException,
    SynologyDSMAPINotExistsException,
    SynologyDSMLogin2SAFailedException,
    SynologyDSMLogin2SARequiredException,
    SynologyDSMLoginInvalidException,
)

from tests.lab.mock_dsm.seed import LAB_PASSWORD, OTP_SECRET


def run(lab, account, steps, device_token=None, password=LAB_PASSWORD):
    """Run `steps(dsm)` with a fresh client session (as HA does per config entry); returns its result."""

    async def main():
        tls = ssl.create_default_context(cafile=lab.ca_path)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=tls)) as http:
            dsm = SynologyDSM(
                http, lab.host, lab.https_port, account, password, use_https=True, timeout=10, device_token=device_token
            )
            return await steps(dsm)

    return asyncio.run(main())


def test_login_information_utilisation_and_logout(dsm_lab):
    async def steps(dsm):
        assert await dsm.login() is True
        await dsm.utilisation.update()
        seen = dict(
            model=dsm.information.model,
            version=dsm.information.version_string,
            ram=dsm.information.ram,
            uptime=dsm.information.uptime,
            awesome=str(dsm.information.awesome_version),
            cpu=dsm.utilisation.cpu_total_load,
            memory=dsm.utilisation.memory_real_usage,
            memory_size=dsm.utilisation.memory_size(),
            up=dsm.utilisation.network_up(),
            listed=sorted(dsm.apis),
        )
        seen["sessions_open"] = dsm_lab.state()["active_sessions"]
        assert await dsm.logout() is True
        return seen

    seen = run(dsm_lab, "ansible", steps)
    info = dsm_lab.state()["dsm_info"]
    assert (seen["model"], seen["version"], seen["ram"]) == (info["model"], info["version_string"], info["ram"])
    assert seen["awesome"] == "7.2.2.3"  # parsed from "DSM 7.2.2-72806 Update 3"
    assert isinstance(seen["cpu"], int) and 0 <= seen["cpu"] <= 100
    assert 0 <= seen["memory"] <= 100
    assert seen["memory_size"] == info["ram"] * 1024 * 1024  # DSM reports KiB; the library converts to bytes
    assert isinstance(seen["up"], int)
    assert {"SYNO.API.Auth", "SYNO.DSM.Info", "SYNO.Core.System.Utilization"} <= set(seen["listed"])
    assert seen["sessions_open"] == 1
    assert dsm_lab.state()["active_sessions"] == 0
    # The library discovers with SYNO.API.Info query (no `query` argument) and logs in with POST.
    assert [c["method"] for c in dsm_lab.calls(api="SYNO.API.Info")] == ["query"]
    assert [c["http"] for c in dsm_lab.calls(api="SYNO.API.Auth", method="login")] == ["POST"]


def test_wrong_password_is_reported_as_invalid_credentials(dsm_lab):
    async def steps(dsm):
        with pytest.raises(SynologyDSMLoginInvalidException):
            await dsm.login()

    run(dsm_lab, "ansible", steps, password="not-the-password")


def test_utilisation_needs_an_administrator(dsm_lab):
    # Home Assistant users report exactly this for a non-admin account (home-assistant/core#103627, #176930).
    async def steps(dsm):
        assert await dsm.login() is True
        with pytest.raises(SynologyDSMAPIInsufficientPrivilegeException):
            await dsm.utilisation.update()
        return dsm.information.model

    assert run(dsm_lab, "alice", steps) == dsm_lab.state()["dsm_info"]["model"]


def test_two_factor_login_then_device_token_on_the_next_login(dsm_lab):
    async def first(dsm):
        with pytest.raises(SynologyDSMLogin2SARequiredException):
            await dsm.login()
        with pytest.raises(SynologyDSMLogin2SAFailedException):
            await dsm.login(otp_code="000000" if pyotp.TOTP(OTP_SECRET).now() != "000000" else "111111")
        assert await dsm.login(otp_code=pyotp.TOTP(OTP_SECRET).now()) is True
        await dsm.logout()
        return dsm.device_token

    token = run(dsm_lab, "otp-admin", first)
    assert token
    stored = dsm_lab.state()["users"]["otp-admin"]["device_tokens"]
    assert [t["name"] for t in stored] == [socket.gethostname()]

    async def again(dsm):
        assert await dsm.login() is True  # no OTP: the device token stands in for it
        return dsm.information.serial

    assert run(dsm_lab, "otp-admin", again, device_token=token) == dsm_lab.state()["dsm_info"]["serial"]

    async def forged(dsm):
        with pytest.raises(SynologyDSMLogin2SARequiredException):
            await dsm.login()

    run(dsm_lab, "otp-admin", forged, device_token="not-" + token)


def test_apis_the_mock_does_not_serve_are_not_listed_and_the_client_refuses_them(dsm_lab):
    # The library checks SYNO.API.Info's list before calling: an API missing there never reaches DSM.
    async def steps(dsm):
        assert await dsm.login() is True
        with pytest.raises(SynologyDSMAPINotExistsException):
            await dsm.download_station.update()
        return "SYNO.DownloadStation.Task" in dsm.apis

    dsm_lab.clear_log()
    assert run(dsm_lab, "ansible", steps) is False
    assert not dsm_lab.calls(api="SYNO.DownloadStation.Task")
