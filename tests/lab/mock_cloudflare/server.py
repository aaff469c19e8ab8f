"""Start the mock Cloudflare on loopback: the API over HTTPS (its CA written to ca.pem) and the edge
(edge.py) on an HTTPS and an HTTP listener of its own."""

from __future__ import annotations

import os

from tests.lab.common.http import Lab
from tests.lab.common.tls import ensure_server_tls
from tests.lab.mock_cloudflare.app import MockCloudflare
from tests.lab.mock_cloudflare.edge import Edge


def start(directory, host="127.0.0.1", port=0, edge_https_port=0, edge_http_port=0):
    os.makedirs(directory, exist_ok=True)
    ca_path, cert_path, key_path = ensure_server_tls(directory, "cloudflare")
    app = MockCloudflare(directory)
    lab = Lab(app, directory)
    bound = lab.listen(host, port, tls=(cert_path, key_path))
    base = "https://%s:%d" % (host, bound)
    edge = Edge(app, directory, lab.log)
    app.origin_pull_ca_path = edge.certs.origin_pull_ca_path
    edge_servers = edge.listen(host, edge_https_port, edge_http_port)
    lab.servers += edge_servers  # stopped with the API listener
    return lab, {
        "host": host,
        "port": bound,
        "api_base_url": base + "/client/v4",
        "ca_path": ca_path,
        "origin_ca_root_url": base + "/static/origin_ca_rsa_root.pem",
        "log_path": lab.log.path,
        "edge_https_port": edge_servers[0].server_address[1],
        "edge_http_port": edge_servers[1].server_address[1],
        "edge_ca_path": edge.certs.ca_path,
        "origin_pull_ca_path": edge.certs.origin_pull_ca_path,
        # Cloudflare publishes its origin-pull CA on developers.cloudflare.com; the lab's, at the same path here.
        "origin_pull_ca_url": base + "/ssl/static/authenticated_origin_pull_ca.pem",
        "origin_pull_ca_sha256": edge.certs.origin_pull_ca_sha256,
    }
