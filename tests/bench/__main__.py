"""`make bench`: what a no-op site.yml costs against the lab, as ratios taken in one call.

  python -m tests.bench OUT_DIR     (make bench: OUT_DIR = build/bench)

Starts the lab as tests/demo.sh does (the mocks, the DSM-shaped nginx tree behind the edge), then:
- the first converge of site.yml, timed once;
- site.yml's no-op (A) against the floor (B, floor.py: the same tasks and loop items, every module task
  ansible.builtin.ping, every other task set_fact), run in turn A B A B ..., the ratio taken pair by pair;
- the requests and DSM logins of one no-op run, from the mocks' request logs, each put on the task that was
  running (callbacks/bench_record.py records when each task started);
- the no-op with N NAS hosts (an inventory of N hosts, all on the one lab), divided by one host;
- the no-op with N services (nas_services as extra vars, each size converged first, untimed), divided by one.
Prints a table and writes OUT_DIR/results.json. Sizes and runs from the environment: BENCH_PAIRS (default 3),
BENCH_HOSTS (default "1 10 50"), BENCH_SERVICES (default "1 10 50 200", each timed BENCH_REPEATS times, default 2,
the best kept); a size starts only within BENCH_BUDGET
seconds of the start (default 360, so that the call ends within 10 minutes; the table names what was left out).
Wall times are a monotonic clock around each whole ansible-playbook process. Not a test: it fails only when a
no-op run changes something or fails, or the floor runs other tasks than the no-op.
"""

from __future__ import annotations

import collections
import json
import os
import platform
import re
import shutil
import ssl
import statistics
import subprocess
import sys
import time
import urllib.request

import yaml

from tests.bench import floor
from tests.lab.registry import BY_NAME

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SITE = os.path.join(ROOT, "playbooks", "site.yml")
LAB_INVENTORY = os.path.join(ROOT, "playbooks", "inventory", "lab")
# farm-bench's table rows: "A wall s   min   median   max".
FARM_ROW = re.compile(r"^(A wall s|B wall s|A/B wall)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s*$", re.M)
RECAP = re.compile(r"^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)", re.M)


def _env(lab):
    env = dict(os.environ, HOMELAB_NAS_LAB_DIR=lab, ANSIBLE_FORCE_COLOR="false", PYTHONUNBUFFERED="1")
    # A controller keeps the collection's bytecode after its first run (__pycache__ beside the installed files);
    # with PYTHONDONTWRITEBYTECODE (set on some CI machines) every task would compile the collection's code again.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", os.path.join(ROOT, "build", "collections"))
    bindir = os.path.dirname(sys.executable)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    return env


def _sh(*cmd, env=None):
    subprocess.run(cmd, check=True, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)


def start_lab(lab):
    """The lab as tests/demo.sh starts it, on free ports."""
    py = sys.executable
    stop_lab(lab)
    shutil.rmtree(lab, ignore_errors=True)
    _sh(py, "-m", "tests.lab", "up", lab)
    nginx = os.path.join(lab, "nginx")
    _sh(py, "-m", "tests.lab.dsm_nginx", "build", nginx)
    _sh(py, "-m", "tests.lab.edge_origin", lab, nginx)
    _sh(py, "-m", "tests.lab.dsm_nginx", "start", nginx)
    config = json.dumps({"task_root": nginx, "nginx_root": nginx})
    _sh(py, "-m", "tests.lab", "config", lab, config)


def stop_lab(lab):
    py = sys.executable
    nginx = os.path.join(lab, "nginx")
    if os.path.exists(os.path.join(nginx, "run", "nginx.pid")):
        subprocess.run([py, "-m", "tests.lab.dsm_nginx", "stop", nginx], cwd=ROOT, check=False)
    subprocess.run([py, "-m", "tests.lab", "down", lab], cwd=ROOT, check=False)


class Runner:
    def __init__(self, out):
        self.out = out
        self.lab = os.path.join(out, "lab")
        self.env = _env(self.lab)
        self.playbook = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")

    def run(self, playbook=SITE, inventory=LAB_INVENTORY, extra=(), env=None, noop=True, log="run.log"):
        """One whole ansible-playbook process: its wall seconds (a no-op must change nothing)."""
        cmd = [self.playbook, "-i", inventory, playbook]
        for value in extra:
            cmd += ["-e", value]
        started = time.monotonic()
        done = subprocess.run(
            cmd, cwd=ROOT, env=dict(self.env, **(env or {})), capture_output=True, text=True, check=False
        )
        wall = time.monotonic() - started
        with open(os.path.join(self.out, log), "w", encoding="utf-8") as handle:
            handle.write(done.stdout + done.stderr)
        recap = RECAP.findall(done.stdout)
        bad = [r for r in recap if (noop and r[2] != "0") or r[3] != "0" or r[4] != "0"]
        if done.returncode != 0 or not recap or bad:
            where = os.path.join(self.out, log)
            sys.exit("bench: %s failed or changed something (%s); see %s" % (playbook, bad, where))
        self.recap = [(r[0], r[1], r[5]) for r in recap]  # host, ok, skipped
        return wall

    def farm_bench(self, pairs, floor_playbook, recorded):
        """The no-op (A) against the floor (B) through farm-bench --vs (paired runs, A B A B ...): medians of each
        and of the pair ratios A/B. Both were run once already, so a failure here would be the machine's."""
        noop = [self.playbook, "-i", LAB_INVENTORY, SITE]
        floor_cmd = [self.playbook, "-i", LAB_INVENTORY, floor_playbook, "-e", recorded]
        done = subprocess.run(
            ["farm-bench", "-n", str(pairs), "--warmup", "0", "--timeout", "3000", "--vs", " ".join(floor_cmd), "--"]
            + noop,
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
        )
        with open(os.path.join(self.out, "farm-bench.log"), "w", encoding="utf-8") as handle:
            handle.write(done.stdout + done.stderr)
        rows = {m.group(1): [float(x) for x in m.group(2, 3, 4)] for m in FARM_ROW.finditer(done.stdout)}
        if done.returncode != 0 or not {"A wall s", "B wall s", "A/B wall"} <= set(rows):
            return None
        return {
            "noop": [rows["A wall s"][1]],
            "floor": [rows["B wall s"][1]],
            "ratio_pairs": rows["A/B wall"],  # min, median, max of the pair ratios
            "timer": "farm-bench --vs (%d pairs; ratio min, median, max)" % pairs,
        }

    # -- the mocks' request logs ------------------------------------------------------------------------------
    def _control(self, mock, path, clear=False):
        spec = BY_NAME[mock]
        with open(os.path.join(self.lab, "lab.json"), encoding="utf-8") as handle:
            info = json.load(handle)[mock]
        request = urllib.request.Request(spec.control_url(info, path), data=b"{}" if clear else None)
        tls = ssl.create_default_context(cafile=info["ca_path"]) if spec.control_tls else None
        with urllib.request.urlopen(request, context=tls) as reply:
            return json.load(reply)

    def clear_logs(self):
        for mock in BY_NAME:
            self._control(mock, "log", clear=True)

    def logs(self):
        return {mock: self._control(mock, "log") for mock in BY_NAME}


def services(count):
    """nas_services of `count` services: the lab inventory's own, then generated ones."""
    with open(os.path.join(LAB_INVENTORY, "group_vars", "all", "nas.yml"), encoding="utf-8") as handle:
        out = list(yaml.safe_load(handle)["nas_services"])
    for index in range(len(out) + 1, count + 1):
        out.append({"name": "svc%d" % index, "hostname": "svc%d.example.test" % index, "backend_port": 9000 + index})
    return out[:count]


def hosts_inventory(out, count):
    """An inventory of `count` NAS hosts, each with the lab inventory's group_vars (so all on the one lab)."""
    directory = os.path.join(out, "hosts-%d" % count)
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    os.symlink(os.path.join(LAB_INVENTORY, "group_vars"), os.path.join(directory, "group_vars"))
    host = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"}
    hosts = {"lab-nas-%d" % i: host for i in range(1, count + 1)}
    with open(os.path.join(directory, "hosts.yml"), "w", encoding="utf-8") as handle:
        yaml.safe_dump({"all": {"children": {"nas": {"hosts": hosts}}}}, handle)
    return directory


def source(mock, entry):
    """Whose request a log entry is: the mock's API, or the Cloudflare edge (a visitor's request, which the mock
    Cloudflare logs with api "edge": the verify role's probes, one per hostname, are not API requests)."""
    return "edge" if entry.get("api") == "edge" else mock


def per_task(record, logs):
    """[(task, action, items, {source: requests})] for the tasks that made requests or are ours."""
    tasks = record["tasks"]
    starts = [t["t"] for t in tasks]
    counts = [{} for _task in tasks]
    for mock, entries in logs.items():
        for entry in entries:
            index = max(0, sum(1 for s in starts if s <= entry["t"]) - 1)
            key = source(mock, entry)
            counts[index][key] = counts[index].get(key, 0) + 1
    rows = []
    for task, count in zip(tasks, counts, strict=True):
        if count or (task["action"] or "").startswith(floor.COLLECTION):
            rows.append((task["name"], task["action"], task["items"], count))
    return rows


def logins(logs):
    """DSM logins in the mocks' request logs."""
    return sum(1 for e in logs["dsm"] if e.get("api") == "SYNO.API.Auth" and e.get("method") == "login")


def _median(values):
    return statistics.median(values) if values else float("nan")


def main(argv):
    out = os.path.abspath(argv[1] if len(argv) > 1 else os.path.join(ROOT, "build", "bench"))
    pairs = int(os.environ.get("BENCH_PAIRS", "3"))
    host_sizes = [int(n) for n in os.environ.get("BENCH_HOSTS", "1 10 50").split()]
    service_sizes = [int(n) for n in os.environ.get("BENCH_SERVICES", "1 10 50 200").split()]
    budget = float(os.environ.get("BENCH_BUDGET", "360"))
    repeats = max(1, int(os.environ.get("BENCH_REPEATS", "2")))
    os.makedirs(out, exist_ok=True)
    runner = Runner(out)
    results = {
        "machine": "%s, %d cores, Python %s" % (platform.platform(), os.cpu_count(), platform.python_version()),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "pairs": pairs,
        "repeats": repeats,
    }
    began = time.monotonic()
    start_lab(runner.lab)
    try:
        results["first_converge"] = runner.run(noop=False, log="converge.log")
        # The recorded no-op: the floor's extra vars, and the requests of one run task by task.
        record_path = os.path.join(out, "record.json")
        callbacks = {
            "ANSIBLE_CALLBACK_PLUGINS": os.path.join(ROOT, "tests", "bench", "callbacks"),
            "ANSIBLE_CALLBACKS_ENABLED": "bench_record",
            "BENCH_RECORD": record_path,
        }
        runner.clear_logs()
        runner.run(env=callbacks, log="record.log")
        logs = runner.logs()
        with open(record_path, encoding="utf-8") as handle:
            record = json.load(handle)
        results["requests"] = dict(collections.Counter(source(m, e) for m, entries in logs.items() for e in entries))
        results["logins"] = logins(logs)
        results["per_task"] = per_task(record, logs)
        floor_playbook = floor.build(record_path, os.path.join(out, "floor"))
        recorded = "@" + os.path.join(out, "floor", "recorded.yml")
        noop_recap = runner.recap
        runner.run(playbook=floor_playbook, extra=[recorded], log="floor.log")  # warm-up, not counted
        if runner.recap != noop_recap:  # the floor must run (ok) and skip the same tasks as the no-op
            sys.exit("bench: the floor ran other tasks than the no-op: %s against %s" % (runner.recap, noop_recap))
        paired = runner.farm_bench(pairs, floor_playbook, recorded) if shutil.which("farm-bench") else None
        if paired:
            results.update(paired)
        else:  # the same method without the tool: A B A B ..., the ratio pair by pair
            noops, floors = [], []
            for _pair in range(pairs):
                noops.append(runner.run(log="noop.log"))
                floors.append(runner.run(playbook=floor_playbook, extra=[recorded], log="floor.log"))
            results["noop"], results["floor"] = noops, floors
            results["ratio_pairs"] = [a / b for a, b in zip(noops, floors, strict=True)]
            results["timer"] = "tests.bench (A B A B ...)"
        # NAS hosts: every host on the one lab (the lab holds one DSM, one zone, one router).
        results["hosts"], results["services"], results["skipped"] = {}, {}, []

        def in_budget(what):
            # A size starts only while the call is inside its budget (make bench: under 10 minutes in all).
            if time.monotonic() - began < budget:
                return True
            results["skipped"].append(what)
            return False

        # Services first (the spread the issue is about): converge to each size (untimed), then its no-op.
        for n in service_sizes:
            if not in_budget("%d services" % n):
                continue
            extra = ["@" + os.path.join(out, "services-%d.json" % n)]
            with open(extra[0][1:], "w", encoding="utf-8") as handle:
                json.dump({"nas_services": services(n)}, handle)
            runner.run(extra=extra, noop=False, log="services-converge.log")
            # The best of `repeats` no-ops: a run is only ever slowed by what else the machine does.
            results["services"][n] = min(runner.run(extra=extra, log="services.log") for _run in range(repeats))
        # Hosts on the lab's own two services: converged back to them first (untimed).
        if results["services"] and time.monotonic() - began < budget:
            runner.run(noop=False, log="hosts-converge.log")
        for n in host_sizes:
            if in_budget("%d NAS hosts" % n):
                runner.clear_logs()
                results["hosts"][n] = runner.run(inventory=hosts_inventory(out, n), log="hosts.log")
                results.setdefault("host_logins", {})[n] = logins(runner.logs())
    finally:
        stop_lab(runner.lab)
    results["total"] = time.monotonic() - began
    with open(os.path.join(out, "results.json"), "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=1)
    print(report(results))


def report(r):
    ratio = _median(r["ratio_pairs"])
    lines = [
        "make bench: %s, %s" % (r["machine"], r["date"]),
        "%-44s %s" % ("first converge", "%.1f s" % r["first_converge"]),
        "%-44s %s" % ("no-op site.yml (median of %d)" % r["pairs"], "%.2f s" % _median(r["noop"])),
        "%-44s %s" % ("floor: same tasks, ping / set_fact", "%.2f s" % _median(r["floor"])),
        "%-44s %.2fx  (pairs: %s)"
        % ("no-op / floor (median of pair ratios)", ratio, " ".join("%.2f" % x for x in r["ratio_pairs"])),
        "%-44s %s" % ("timed by", r.get("timer", "")),
        "%-44s %s"
        % ("requests per no-op run (edge: visitors')", ", ".join("%s %d" % kv for kv in sorted(r["requests"].items()))),
        "%-44s %d" % ("DSM logins per no-op run", r["logins"]),
    ]
    for label, key in (("services", "services"), ("NAS hosts", "hosts")):
        sizes = r[key]
        if sizes:
            one = sizes.get(1) or sizes[min(sizes)]
            best = " (best of %d)" % r.get("repeats", 1) if key == "services" else ""
            for n, wall in sizes.items():
                line = "%-44s %6.1f s  %5.2fx" % ("no-op, %d %s%s" % (n, label, best), wall, wall / one)
                if key == "hosts" and n in r.get("host_logins", {}):
                    line += "  (DSM logins: %d)" % r["host_logins"][n]
                lines.append(line)
    if r["skipped"]:
        lines.append("%-44s %s" % ("not run (past BENCH_BUDGET)", ", ".join(r["skipped"])))
    lines.append("")
    lines.append("%-60s %-34s %5s  %s" % ("no-op task", "action", "items", "requests"))
    for name, action, items, count in r["per_task"]:
        made = ", ".join("%s %d" % kv for kv in sorted(count.items())) or "0"
        lines.append("%-60.60s %-34.34s %5s  %s" % (name, action or "", items or "", made))
    lines.append("(total %.0f s)" % r["total"])
    return "\n".join(lines)


if __name__ == "__main__":
    main(sys.argv)
