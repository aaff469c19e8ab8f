"""Start the mock Cloudflare API on loopback over HTTPS (its CA written to ca.pem)."""

from __future__ import annotations

import os

from tests.lab.common.http import Lab
from tests.lab.common.tls import ensure_server_tls
from tests.lab.mock_cloudflare.app import MockCloudflare


def start(directory, host="127.0.0.1", port=0):
    os.makedirs(directory, exist_ok=True)
    ca_path, cert_path, key_path = ensure_server_tls(directory, "cloudflare")
    app = MockCloudflare(directory)
    lab = Lab(app, directory)
    bound = lab.listen(host, port, tls=(cert_path, key_path))
    base = "https://%s:%d" % (host, bound)
    return lab, {
        "host": host,
        "port": bound,
        "api_base_url": base + "/client/v4",
        "ca_path": ca_path,
        "origin_ca_root_url": base + "/static/origin_ca_rsa_root.pem",
        "log_path": lab.log.path,
    }
