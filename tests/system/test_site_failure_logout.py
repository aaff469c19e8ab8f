"""A site.yml run that fails part-way still logs out of DSM (issue 12): the session is ended on DSM and dropped
from the session cache, and the run still reports the failure."""

from __future__ import annotations

import glob
import os

AUTH = "SYNO.API.Auth"


def test_a_run_failing_mid_way_logs_out_and_still_fails(site, dsm_lab, tmp_path):
    # The certificate import (the tls role, after the hardening and origin steps have used the session) fails once.
    dsm_lab.fault(fail_next={"api": "SYNO.Core.Certificate", "method": "import", "code": 100, "count": 1})
    run = site()
    assert run.returncode != 0, run.stdout[-3000:]
    calls = dsm_lab.calls()
    failed_at = next(i for i, c in enumerate(calls) if c.get("fault"))
    logins = [c for c in calls[:failed_at] if c["api"] == AUTH and c["method"] == "login"]
    assert logins, "the run never logged in before the fault"
    logouts = [c for c in calls[failed_at:] if c["api"] == AUTH and c["method"] == "logout"]
    assert logouts, "no logout after the failure:\n" + run.stdout[-3000:]
    assert dsm_lab.state()["active_sessions"] == 0
    cache = os.path.join(str(tmp_path), "session-cache")
    assert os.path.isdir(cache) and glob.glob(os.path.join(cache, "*.session.json")) == []
    # Nothing after the failed task ran but the logout: the failure still stops the run.
    assert "Cloudflare zone TLS settings" not in run.stdout
    assert "TASK [Log out of DSM]" in run.stdout
