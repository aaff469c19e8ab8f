"""An ACME CA for DNS-01 tests: Debian's pebble, resolving through pebble-challtestsrv's DNS server.

Both run on 127.0.0.1 only, on ports picked free at start. The mock Cloudflare forwards `_acme-challenge`
TXT records to challtestsrv's management API (`/set-txt`, `/clear-txt`) once a test configures
`challtestsrv_url`; pebble (`-dnsserver`) then validates DNS-01 challenges against those records.
Pebble's own HTTPS certificate is made here with a throwaway CA carrying AKI/SKI, as strict TLS clients require.
"""

from __future__ import annotations

import datetime
import json
import os
import shutil
import socket
import ssl
import subprocess
import time
import urllib.request

import dns.message
import dns.query
import dns.rdatatype
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from tests.lab import pki

PEBBLE, CHALLTESTSRV = "pebble", "pebble-challtestsrv"


def binaries_missing():
    """The Debian `pebble` package's programs that are not on PATH (tests/system-deps.sh installs them)."""
    return [name for name in (PEBBLE, CHALLTESTSRV) if shutil.which(name) is None]


def free_port():
    """A loopback port free right now (pebble and challtestsrv cannot bind port 0 and report it back)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _write_tls(directory):
    """CA and 127.0.0.1/localhost leaf for pebble's listeners; returns (ca, cert, key) paths."""
    start = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = pki.issue("homelab.nas lab pebble TLS CA", ca_key, ca=True, days=2, not_before=start)
    leaf = pki.issue("localhost", key, ca, ca_key, sans=["localhost", "127.0.0.1"], days=2, not_before=start)
    paths = [os.path.join(directory, name) for name in ("pebble-ca.pem", "pebble.pem", "pebble.key")]
    for path, blob in zip(paths, (pki.pem(ca), pki.pem(leaf), pki.pem(key)), strict=True):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(blob)
    return paths


class AcmeLab:
    """pebble + pebble-challtestsrv as child processes; stop() ends both."""

    def __init__(self, directory, nonce_reject=0, alternate_roots=0):
        os.makedirs(directory, exist_ok=True)
        self.directory = directory
        self.ca_path, cert_path, key_path = _write_tls(directory)
        self.dns_port, management, acme, acme_management = free_port(), free_port(), free_port(), free_port()
        self.challtestsrv_url = "http://127.0.0.1:%d" % management
        self.directory_url = "https://127.0.0.1:%d/dir" % acme
        self._management_url = "https://127.0.0.1:%d" % acme_management
        self._tls = ssl.create_default_context(cafile=self.ca_path)
        self._procs = []
        # Only the DNS server and the management API; no HTTP-01/TLS-ALPN-01 listeners are needed.
        self._spawn(
            "challtestsrv",
            [
                CHALLTESTSRV,
                "-management",
                "127.0.0.1:%d" % management,
                "-dns01",
                "127.0.0.1:%d" % self.dns_port,
                "-http01",
                "",
                "-https01",
                "",
                "-tlsalpn01",
                "",
                "-defaultIPv4",
                "127.0.0.1",
                "-defaultIPv6",
                "",
            ],
        )
        config = {
            "pebble": {
                "listenAddress": "127.0.0.1:%d" % acme,
                "managementListenAddress": "127.0.0.1:%d" % acme_management,
                "certificate": cert_path,
                "privateKey": key_path,
                # Challenge ports pebble would use for HTTP-01/TLS-ALPN-01; nothing listens there.
                "httpPort": free_port(),
                "tlsPort": free_port(),
                "ocspResponderURL": "",
                "externalAccountBindingRequired": False,
            }
        }
        config_path = os.path.join(directory, "pebble-config.json")
        with open(config_path, "w", encoding="utf-8") as out:
            json.dump(config, out)
        # No artificial validation delay and, unless asked (pebble's default is 5 %), no deliberately rejected
        # nonces: tests stay fast and deterministic. alternate_roots: extra chains pebble offers (Link: alternate).
        env = dict(
            os.environ,
            PEBBLE_VA_NOSLEEP="1",
            PEBBLE_WFE_NONCEREJECT=str(nonce_reject),
            PEBBLE_ALTERNATE_ROOTS=str(alternate_roots),
        )
        self._spawn("pebble", [PEBBLE, "-config", config_path, "-dnsserver", "127.0.0.1:%d" % self.dns_port], env=env)
        self._wait_ready()

    def _spawn(self, name, argv, env=None):
        log = open(os.path.join(self.directory, name + ".log"), "ab")
        self._procs.append(
            subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, stdin=subprocess.DEVNULL)
        )
        log.close()

    def _wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(self.directory_url, context=self._tls, timeout=2).close()
                urllib.request.urlopen(
                    urllib.request.Request(self.challtestsrv_url + "/clear-txt", data=b'{"host":"ready.invalid."}'),
                    timeout=2,
                ).close()
                return
            except OSError:
                if time.monotonic() > deadline or any(p.poll() is not None for p in self._procs):
                    self.stop()
                    raise RuntimeError("pebble or pebble-challtestsrv did not start; see %s" % self.directory) from None
                time.sleep(0.2)

    def issuing_roots(self, index=0):
        """PEM of pebble's issuing root `index` (0 the default chain's; made anew at every pebble start)."""
        with urllib.request.urlopen(self._management_url + "/roots/%d" % index, context=self._tls, timeout=5) as reply:
            return reply.read().decode()

    def txt(self, name):
        """TXT strings challtestsrv's DNS server answers for `name` (what pebble would see)."""
        query = dns.message.make_query(name.rstrip(".") + ".", dns.rdatatype.TXT)
        answer = dns.query.udp(query, "127.0.0.1", port=self.dns_port, timeout=3)
        return sorted(b"".join(rdata.strings).decode() for rrset in answer.answer for rdata in rrset)

    def stop(self):
        for proc in self._procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self._procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._procs = []


@pytest.fixture(scope="session")
def acme_lab(tmp_path_factory):
    """One pebble + challtestsrv for the test session (the Cloudflare mock's reset clears what it published)."""
    missing = binaries_missing()
    if missing:
        pytest.fail("%s missing: run tests/system-deps.sh (Debian package pebble)" % ", ".join(missing))
    lab = AcmeLab(str(tmp_path_factory.mktemp("acme")))
    yield lab
    lab.stop()
