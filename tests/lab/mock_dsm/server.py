"""Start the mock DSM on loopback: HTTP and HTTPS listeners over one state."""

from __future__ import annotations

import os

from tests.lab.common.http import Lab
from tests.lab.common.tls import ensure_server_tls
from tests.lab.mock_dsm.app import MockDsm
from tests.lab.mock_dsm.listeners import WebListeners
from tests.lab.mock_dsm.ssh_standin import SshStandIn


def start(directory, host="127.0.0.1", http_port=0, https_port=0):
    """Returns (lab, info); info has the bound ports, CA path and file locations.

    The HTTPS listener presents whatever certificate DSM Desktop Service uses in the mock's state;
    the factory one is issued by the lab CA (ca.pem). /_lab/ control calls go to the HTTP listener,
    which the mock's firewall never blocks for them. ssh_port is the SSH stand-in."""
    os.makedirs(directory, exist_ok=True)
    # Named like DSM's factory pair: a "synology" certificate issued by the NAS's own "Synology Inc. CA"
    # (batonogov's certificate_test.go fixture); users trust that CA to verify their NAS, as controllers
    # trust ca.pem here.
    ca_path, cert_path, key_path = ensure_server_tls(
        directory, "dsm", ca_name="Synology Inc. CA", common_name="synology"
    )
    with (
        open(cert_path, encoding="utf-8") as cert,
        open(key_path, encoding="utf-8") as key,
        open(ca_path, encoding="utf-8") as ca,
    ):
        factory = (cert.read(), key.read(), ca.read())
    app = MockDsm(os.path.join(directory, "state.json"), factory_certificate=factory)
    lab = Lab(app, directory)
    # DSM's web server: its listeners follow SYNO.Core.Web.DSM's ports (a set that moves one moves them).
    app.web = WebListeners(lab, host, (cert_path, key_path), http_port, https_port)
    app.web_home()
    ports = app.web.ports()
    info = {
        "host": host,
        "http_port": ports["http"],
        "https_port": ports["https"],
        "ca_path": ca_path,
        "state_path": app.state.path,
        "log_path": lab.log.path,
    }
    app.listener_ports = {info["http_port"], info["https_port"]}
    app.ssh = SshStandIn(host, lambda: app.admits(app.ssh_port(), None))
    lab.on_shutdown(app.ssh.close)
    app.sync_ssh()
    info["ssh_port"] = app.ssh.port
    return lab, info
