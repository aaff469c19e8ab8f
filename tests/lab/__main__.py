"""The lab's command line.

  python -m tests.lab serve DIR [--dsm-http-port N --dsm-https-port N]   run in the foreground
  python -m tests.lab up DIR [...]     start in the background, wait until it answers, print lab.json
  python -m tests.lab down DIR         stop it
  python -m tests.lab log DIR [--mock dsm|router] [--clear] [--count API.METHOD]   read or clear a request log

DIR holds each mock's state (state.json), request log (requests.jsonl), CA (ca.pem) and lab.json
with the bound ports. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import ssl
import subprocess
import sys
import threading
import time
import urllib.request

from tests.lab.mock_cloudflare import server as cloudflare_server
from tests.lab.mock_dsm import server as dsm_server
from tests.lab.mock_router import server as router_server


def serve(args):
    dsm_lab, dsm = dsm_server.start(os.path.join(args.dir, "dsm"), http_port=args.dsm_http_port,
                                    https_port=args.dsm_https_port)
    router_lab, router = router_server.start(os.path.join(args.dir, "router"), port=args.router_port)
    cloudflare_lab, cloudflare = cloudflare_server.start(os.path.join(args.dir, "cloudflare"),
                                                         port=args.cloudflare_port)
    info = {"pid": os.getpid(), "dsm": dsm, "router": router, "cloudflare": cloudflare}
    tmp = os.path.join(args.dir, "lab.json.tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        json.dump(info, out, indent=1)
    os.replace(tmp, os.path.join(args.dir, "lab.json"))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *args: stop.set())
    signal.signal(signal.SIGINT, lambda *args: stop.set())
    stop.wait()
    dsm_lab.shutdown()
    router_lab.shutdown()
    cloudflare_lab.shutdown()


def up(args):
    os.makedirs(args.dir, exist_ok=True)
    info_path = os.path.join(args.dir, "lab.json")
    if os.path.exists(info_path):
        os.unlink(info_path)
    cmd = [sys.executable, "-m", "tests.lab", "serve", args.dir,
           "--dsm-http-port", str(args.dsm_http_port), "--dsm-https-port", str(args.dsm_https_port),
           "--router-port", str(args.router_port), "--cloudflare-port", str(args.cloudflare_port)]
    log = open(os.path.join(args.dir, "lab.log"), "ab")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                            cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    deadline = time.time() + 60
    while not os.path.exists(info_path):
        if proc.poll() is not None or time.time() > deadline:
            sys.exit("the lab did not start; see %s" % os.path.join(args.dir, "lab.log"))
        time.sleep(0.1)
    with open(info_path, encoding="utf-8") as handle:
        print(handle.read())


def down(args):
    info_path = os.path.join(args.dir, "lab.json")
    try:
        pid = _info(args.dir)["pid"]
    except (OSError, ValueError, KeyError):
        return
    try:
        os.kill(pid, signal.SIGTERM)
        deadline = time.time() + 5
        while time.time() < deadline:
            os.kill(pid, 0)  # raises once the process is gone
            time.sleep(0.1)
    except ProcessLookupError:
        pass
    os.unlink(info_path)


def log(args):
    info = _info(args.dir)[args.mock]
    scheme = "https" if "ca_path" in info and "http_port" not in info else "http"
    url = "%s://%s:%s/_lab/log" % (scheme, info["host"], info.get("http_port") or info["port"])
    request = urllib.request.Request(url, data=b"{}" if args.clear else None)
    tls = ssl.create_default_context(cafile=info["ca_path"]) if scheme == "https" else None
    with urllib.request.urlopen(request, context=tls) as reply:
        entries = json.load(reply)
    if args.count:
        api, method = args.count.rsplit(".", 1)
        print(sum(1 for e in entries if e["api"] == api and e["method"] == method))
    elif not args.clear:
        print(json.dumps(entries, indent=1))


def _info(directory):
    with open(os.path.join(directory, "lab.json"), encoding="utf-8") as handle:
        return json.load(handle)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.lab")
    parser.add_argument("command", choices=["serve", "up", "down", "log"])
    parser.add_argument("dir")
    parser.add_argument("--dsm-http-port", type=int, default=0)
    parser.add_argument("--dsm-https-port", type=int, default=0)
    parser.add_argument("--router-port", type=int, default=0)
    parser.add_argument("--cloudflare-port", type=int, default=0)
    parser.add_argument("--clear", action="store_true")
    parser.add_argument("--count", help="API.METHOD, e.g. SYNO.API.Auth.login")
    parser.add_argument("--mock", choices=["dsm", "router", "cloudflare"], default="dsm",
                        help="whose log (log command)")
    args = parser.parse_args(argv)
    args.dir = os.path.abspath(args.dir)
    {"serve": serve, "up": up, "down": down, "log": log}[args.command](args)


if __name__ == "__main__":
    main()
