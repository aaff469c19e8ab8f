"""Start the mock DSM on loopback: HTTP and HTTPS listeners over one state."""

from __future__ import annotations

import os

from tests.lab.common.http import Lab
from tests.lab.common.tls import ensure_server_tls
from tests.lab.mock_dsm.app import MockDsm


def start(directory, host="127.0.0.1", http_port=0, https_port=0):
    """Returns (lab, info); info has the bound ports, CA path and file locations."""
    os.makedirs(directory, exist_ok=True)
    ca_path, cert_path, key_path = ensure_server_tls(directory, "dsm")
    app = MockDsm(os.path.join(directory, "state.json"))
    lab = Lab(app, directory)
    info = {
        "host": host,
        "http_port": lab.listen(host, http_port),
        "https_port": lab.listen(host, https_port, tls=(cert_path, key_path)),
        "ca_path": ca_path,
        "state_path": app.state.path,
        "log_path": lab.log.path,
    }
    return lab, info
