"""A visitor through the lab's Cloudflare edge and an attacker straight to the NAS's nginx, polling in a
thread while playbooks run (tests/system/test_origin_pulls.py, test_workflow.py)."""

from __future__ import annotations

import json
import os
import socket
import ssl
import threading
import time

HOSTS = ("photos.example.test", "media.example.test")


def through_edge(info, host):
    """The status a visitor gets from the lab's Cloudflare edge for `host`."""
    context = ssl.create_default_context(cafile=info["edge_ca_path"])
    with socket.create_connection((info["host"], info["edge_https_port"]), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            tls.sendall(("GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % host).encode())
            head = tls.recv(64).decode("latin-1")
    return int(head.split()[1])


def straight_to_origin(root, host):
    """The status a client without Cloudflare's certificate gets from the NAS's nginx (an attacker does not
    check the server's certificate)."""
    with open(os.path.join(root, "lab.json"), encoding="utf-8") as handle:
        lab = json.load(handle)
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with socket.create_connection((lab["address"], lab["port"]), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            tls.sendall(("GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % host).encode())
            head = tls.recv(64).decode("latin-1")
    return int(head.split()[1])


def _status(probe, *args):
    """An HTTP status, or the name of the error that kept the client from getting one."""
    try:
        return probe(*args)
    except (OSError, ValueError, IndexError) as exc:
        return type(exc).__name__


class Poller(threading.Thread):
    """A visitor through Cloudflare and an attacker straight to the origin, every 50 ms, for each host."""

    def __init__(self, info, origin_root):
        super().__init__(daemon=True)
        self.info, self.origin_root = info, origin_root
        self.visitor, self.attacker = [], []
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            for host in HOSTS:
                self.visitor.append((time.monotonic(), host, _status(through_edge, self.info, host)))
                self.attacker.append((time.monotonic(), host, _status(straight_to_origin, self.origin_root, host)))
            time.sleep(0.05)

    def stop(self):
        assert self.is_alive(), "the poller died"
        self.done.set()
        self.join(10)
