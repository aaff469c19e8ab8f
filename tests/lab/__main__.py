"""The lab's command line.

  python -m tests.lab serve DIR [--port MOCK.NAME=N ...]   run every mock in the foreground
  python -m tests.lab up DIR [--port MOCK.NAME=N ...]      start in the background, wait, print lab.json
  python -m tests.lab down DIR                             stop it
  python -m tests.lab log DIR [--mock NAME] [--clear] [--count API.METHOD]   read or clear a request log
  python -m tests.lab config DIR JSON [--mock NAME]      POST JSON to a mock's /_lab/config (e.g. the mock
                                                         DSM's {"task_root": ..., "nginx_root": ...} or {"tick": true})

Ports are chosen by the system unless given, e.g. `--port dsm.https_port=15001 --port router.port=15002`
(the port names of each mock are in tests/lab/registry.py). DIR holds one directory per mock (its
state.json, requests.jsonl, CA) and lab.json with what each mock bound. Everything listens on 127.0.0.1.
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

from tests.lab.registry import BY_NAME, MOCKS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _ports(values):
    """--port dsm.https_port=15001 ... -> {"dsm": {"https_port": 15001}}"""
    chosen = {}
    for value in values or []:
        target, _sep, port = value.partition("=")
        mock, _dot, name = target.partition(".")
        if mock not in BY_NAME or name not in BY_NAME[mock].ports or not port.isdigit():
            sys.exit(
                "--port %s: use MOCK.NAME=PORT with one of %s"
                % (value, ", ".join("%s.%s" % (spec.name, p) for spec in MOCKS for p in spec.ports))
            )
        chosen.setdefault(mock, {})[name] = int(port)
    return chosen


def serve(args):
    ports = _ports(args.port)
    labs, info = [], {"pid": os.getpid()}
    for spec in MOCKS:
        lab, info[spec.name] = spec.start(os.path.join(args.dir, spec.name), **ports.get(spec.name, {}))
        labs.append(lab)
    tmp = os.path.join(args.dir, "lab.json.tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        json.dump(info, out, indent=1)
    os.replace(tmp, os.path.join(args.dir, "lab.json"))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *args: stop.set())
    signal.signal(signal.SIGINT, lambda *args: stop.set())
    stop.wait()
    for lab in labs:
        lab.shutdown()


def up(args):
    os.makedirs(args.dir, exist_ok=True)
    info_path = os.path.join(args.dir, "lab.json")
    if os.path.exists(info_path):
        os.unlink(info_path)
    cmd = [sys.executable, "-m", "tests.lab", "serve", args.dir]
    for value in args.port or []:
        cmd += ["--port", value]
    log = open(os.path.join(args.dir, "lab.log"), "ab")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT)
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
    spec = BY_NAME[args.mock]
    info = _info(args.dir)[spec.name]
    request = urllib.request.Request(spec.control_url(info, "log"), data=b"{}" if args.clear else None)
    tls = ssl.create_default_context(cafile=info["ca_path"]) if spec.control_tls else None
    with urllib.request.urlopen(request, context=tls) as reply:
        entries = json.load(reply)
    if args.count:
        api, method = args.count.rsplit(".", 1)
        print(sum(1 for e in entries if e["api"] == api and e["method"] == method))
    elif not args.clear:
        print(json.dumps(entries, indent=1))


def config(args):
    spec = BY_NAME[args.mock]
    info = _info(args.dir)[spec.name]
    body = json.dumps(json.loads(args.json)).encode()
    request = urllib.request.Request(
        spec.control_url(info, "config"), data=body, headers={"Content-Type": "application/json"}
    )
    tls = ssl.create_default_context(cafile=info["ca_path"]) if spec.control_tls else None
    with urllib.request.urlopen(request, context=tls) as reply:
        print(reply.read().decode())


def _info(directory):
    with open(os.path.join(directory, "lab.json"), encoding="utf-8") as handle:
        return json.load(handle)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m tests.lab")
    parser.add_argument("command", choices=["serve", "up", "down", "log", "config"])
    parser.add_argument("dir")
    parser.add_argument("json", nargs="?", default="{}", help="config: the JSON body")
    parser.add_argument(
        "--port",
        action="append",
        metavar="MOCK.NAME=PORT",
        help="a fixed port for one mock's listener (default: any free port)",
    )
    parser.add_argument("--clear", action="store_true")
    parser.add_argument("--count", help="API.METHOD, e.g. SYNO.API.Auth.login")
    parser.add_argument("--mock", choices=sorted(BY_NAME), default="dsm", help="whose log or config")
    args = parser.parse_args(argv)
    args.dir = os.path.abspath(args.dir)
    {"serve": serve, "up": up, "down": down, "log": log, "config": config}[args.command](args)


if __name__ == "__main__":
    main()
