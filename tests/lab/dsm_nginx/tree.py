"""Build, regenerate and serve the DSM-shaped nginx tree (see the package docstring)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys

from tests.lab import pki

TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
# What a tree serves until a mock DSM regenerates it from its own reverse-proxy entries:
# (description, hostname) pairs.
ENTRIES = [("photos", "photos.example.test"), ("media", "media.example.test")]
# Where DSM writes the reverse-proxy server blocks: DSM 7 (live DSM access-log project, several DSM 7
# guides) and DSM 6 (Synology's own 2016 nginx-conf-generator.sh). See docs/lab-fidelity.md.
SERVER_FILES = {
    "dsm7": "etc/nginx/sites-enabled/server.ReverseProxy.conf",
    "dsm6": "etc/nginx/app.d/server.ReverseProxy.conf",
}
DEFAULT_LAYOUT = "dsm7"


def _write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as out:
        out.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(path, mode)


def require_nginx():
    """Debian's nginx, which `make test` installs (tests/system-deps.sh): its absence is an error, not a skip."""
    if shutil.which("nginx") is None:
        raise RuntimeError(
            "nginx is missing: make test installs it (tests/system-deps.sh), or apt-get install nginx-light"
        )


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build(root, port=0, address="127.0.0.1", layout=DEFAULT_LAYOUT):
    """The tree, DSM's default certificate for *.example.test, the generated configuration, and (in
    test-client/) an origin-pull CA with a client certificate, as Cloudflare would present it.
    `layout` is where the server blocks go: "dsm7" (sites-enabled/) or "dsm6" (app.d/)."""
    if layout not in SERVER_FILES:
        raise ValueError("layout must be one of %s" % ", ".join(sorted(SERVER_FILES)))
    root = os.path.abspath(root)
    port = port or free_port()
    for directory in ("run", "var/log/nginx", "var/lib/nginx", "usr/syno/share/nginx", "usr/local/etc/rc.d"):
        os.makedirs(os.path.join(root, directory), exist_ok=True)
    for name in os.listdir(TEMPLATES):
        shutil.copy(os.path.join(TEMPLATES, name), os.path.join(root, "usr/syno/share/nginx", name))
    test_pki = pki.TestPki()
    cert, key = test_pki.leaf("example.test")
    certs = os.path.join(root, "usr/syno/etc/certificate/system/default")
    _write(os.path.join(certs, "fullchain.pem"), pki.pem(cert) + pki.pem(test_pki.inter))
    _write(os.path.join(certs, "privkey.pem"), pki.pem(key), 0o600)
    _write(os.path.join(root, "server-ca.pem"), pki.pem(test_pki.root))
    _write(
        os.path.join(root, "lab.json"),
        json.dumps({"port": port, "address": address, "layout": layout, "entries": [list(e) for e in ENTRIES]}),
    )
    client_ca = pki.TestPki()
    client_key = pki.rsa_key()
    client = pki.issue("origin-pull.cloudflare.test", client_key, client_ca.root, client_ca.root_key)
    _write(os.path.join(root, "test-client/origin-pull-ca.pem"), pki.pem(client_ca.root))
    _write(os.path.join(root, "test-client/client.pem"), pki.pem(client))
    _write(os.path.join(root, "test-client/client.key"), pki.pem(client_key), 0o600)
    regenerate(root)
    return root


def probe(root, host, with_client_cert=False, headers=None):
    """(status, body) of GET / on a virtual host over TLS with SNI, as a browser or Cloudflare would."""
    root = os.path.abspath(root)
    with open(os.path.join(root, "lab.json"), encoding="utf-8") as handle:
        lab = json.load(handle)
    context = ssl.create_default_context(cafile=os.path.join(root, "server-ca.pem"))
    if with_client_cert:
        context.load_cert_chain(
            os.path.join(root, "test-client/client.pem"), os.path.join(root, "test-client/client.key")
        )
    with socket.create_connection((lab["address"], lab["port"]), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            lines = ["GET / HTTP/1.1", "Host: %s" % host, "Connection: close"]
            lines += ["%s: %s" % item for item in (headers or {}).items()]
            tls.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
            data = b""
            while True:
                chunk = tls.recv(4096)
                if not chunk:
                    break
                data += chunk
    head, _sep, body = data.decode().partition("\r\n\r\n")
    return int(head.split()[1]), body.strip()


def digest(root):
    """Fingerprint of the generated nginx configuration (what DSM regenerates)."""
    sha = hashlib.sha256()
    base = os.path.join(os.path.abspath(root), "etc/nginx")
    for directory, dirs, files in os.walk(base):
        dirs.sort()
        for name in sorted(files):
            with open(os.path.join(directory, name), "rb") as handle:
                sha.update(os.path.relpath(os.path.join(directory, name), base).encode() + handle.read())
    return sha.hexdigest()


def _settings(root):
    with open(os.path.join(root, "lab.json"), encoding="utf-8") as handle:
        return json.load(handle)


def server_file(root):
    """The generated file that holds the reverse-proxy server blocks, for the tree's DSM layout."""
    return os.path.join(os.path.abspath(root), SERVER_FILES[_settings(root).get("layout", "dsm6")])


def regenerate(root, entries=None, layout=None):
    """Write /etc/nginx from the templates again, as DSM does on boot, on update and (with `entries`,
    (description, hostname) pairs) on every reverse-proxy edit. Without arguments it renders what it
    rendered last; `layout` moves the server blocks to the other DSM generation's file."""
    root = os.path.abspath(root)
    lab = _settings(root)
    if entries is not None:
        lab["entries"] = [list(e) for e in entries]
    if layout is not None:
        if layout not in SERVER_FILES:
            raise ValueError("layout must be one of %s" % ", ".join(sorted(SERVER_FILES)))
        lab["layout"] = layout
    lab.setdefault("layout", "dsm6")  # trees built before layouts existed had the DSM 6 one
    lab.setdefault("entries", [list(e) for e in ENTRIES])
    _write(os.path.join(root, "lab.json"), json.dumps(lab))
    share = os.path.join(root, "usr/syno/share/nginx")
    with open(os.path.join(share, "nginx.conf.tmpl"), encoding="utf-8") as handle:
        main = handle.read().format(root=root, templates=share)
    with open(os.path.join(share, "server.ReverseProxy.conf.tmpl"), encoding="utf-8") as handle:
        server = handle.read()
    servers = "".join(
        server.format(address=lab["address"], port=lab["port"], hostname=host, description=name, uuid="%s-0000" % name)
        for name, host in lab["entries"]
    )
    _write(os.path.join(root, "etc/nginx/nginx.conf"), main)
    for layout_name, relative in SERVER_FILES.items():
        path = os.path.join(root, relative)
        if layout_name == lab["layout"]:
            _write(path, servers)
        elif os.path.exists(path):
            os.unlink(path)


def running(root):
    """Whether this tree's nginx is running (its pid file names a live process)."""
    try:
        with open(os.path.join(os.path.abspath(root), "run/nginx.pid"), encoding="utf-8") as handle:
            os.kill(int(handle.read().strip()), 0)
    except (OSError, ValueError):
        return False
    return True


def reload_if_running(root):
    """What DSM does after regenerating: reload nginx, when it runs. Returns nginx's result or None."""
    if not running(root):
        return None
    return nginx(root, "-s", "reload")


def nginx(root, *args):
    root = os.path.abspath(root)
    return subprocess.run(
        ["nginx", "-p", root + "/", "-c", os.path.join(root, "etc/nginx/nginx.conf"), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def main(argv):
    command, root = argv[0], argv[1]
    if command == "build":
        # build ROOT [PORT] [--layout dsm6|dsm7]
        rest = argv[2:]
        layout = DEFAULT_LAYOUT
        if "--layout" in rest:
            layout = rest[rest.index("--layout") + 1]
            del rest[rest.index("--layout") : rest.index("--layout") + 2]
        build(root, int(rest[0]) if rest else 0, layout=layout)
        return 0
    if command == "probe":
        # probe ROOT HOST [client]: prints "<status> <body>"
        status, body = probe(
            root,
            argv[2],
            with_client_cert=len(argv) > 3 and argv[3] == "client",
            headers={"CF-Connecting-IP": "198.51.100.23"},
        )
        print(status, body)
        return 0
    if command == "digest":
        print(digest(root))
        return 0
    if command == "regenerate":
        regenerate(root)
        return 0
    result = nginx(root, *({"start": [], "reload": ["-s", "reload"], "stop": ["-s", "quit"]}[command]))
    sys.stderr.write(result.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
