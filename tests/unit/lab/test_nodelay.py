"""The lab's listeners send as nginx does, with Nagle's algorithm off (tests/lab/common/http.py `LabServer`)."""

from __future__ import annotations

import socket
from http.server import BaseHTTPRequestHandler

from tests.lab.common import http
from tests.lab.common.http import LabServer
from tests.lab.mock_cloudflare import edge


def test_an_accepted_socket_has_tcp_nodelay():
    server = LabServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    try:
        with socket.create_connection(server.server_address, timeout=5):
            accepted, _peer = server.get_request()
            try:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
            finally:
                accepted.close()
    finally:
        server.server_close()


def test_the_mocks_and_the_edge_listen_through_it():
    # DSM, the router and the Cloudflare API (Lab.serve) and Cloudflare's edge.
    assert issubclass(http._Server, LabServer)
    assert issubclass(edge._EdgeServer, LabServer)
