"""nginx_patches through the mock DSM's Task Scheduler, against Debian's real nginx serving a DSM-shaped tree.

The role talks to the mock DSM only (no SSH): it installs the patch script as a boot-up and a scheduled root
task, which the mock really runs in the tree (task_root), and the mock rewrites the tree on every reverse-proxy
edit (nginx_root), as DSM does. A real TLS client checks the result: without Cloudflare's origin-pull
certificate the patched hosts refuse (HTTP 400 from ssl_verify_client), with it they answer and report the
visitor's address from CF-Connecting-IP. The origin-pull CA and client certificate are made by the tree.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import threading
import time

import pytest

from tests.lab.dsm_nginx import tree
from tests.utils.dsm_client import lab_session

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, "tests", "output", "collections")
RP = "SYNO.Core.AppPortal.ReverseProxy"

tree.require_nginx()


def rp_entry(description, hostname, port=8080):
    return {
        "description": description,
        "proxy_connect_timeout": 60,
        "proxy_read_timeout": 60,
        "proxy_send_timeout": 60,
        "proxy_http_version": 1,
        "proxy_intercept_errors": False,
        "frontend": {"fqdn": hostname, "port": 443, "protocol": 1, "acl": None, "https": {"hsts": False}},
        "backend": {"fqdn": "localhost", "port": port, "protocol": 0},
        "customize_headers": [],
    }


class Nas:
    """The tree, its nginx, and the mock DSM that runs the role's tasks in it."""

    def __init__(self, root, dsm_lab, cache_dir):
        self.root, self.dsm_lab, self.cache_dir = root, dsm_lab, cache_dir
        self.server_file = os.path.join(root, tree.SERVER_FILES["dsm7"])

    def get(self, host, with_client_cert, headers=None):
        return tree.probe(self.root, host, with_client_cert, headers)

    def digest(self):
        return tree.digest(self.root)

    def api(self):
        """A DSM client for a `with` block, logged out at its end."""
        return lab_session(self.dsm_lab)

    def tasks(self):
        return self.dsm_lab.state()["tasks"]

    def role(self, *args, **overrides):
        nginx_cmd = "nginx -p %s/ -c %s/etc/nginx/nginx.conf" % (self.root, self.root)
        variables = {
            "dsm": self.dsm_lab.client_args(session_cache_dir=self.cache_dir),
            "nginx_patches_root": self.root + "/",
            "nginx_patches_hostnames": ["photos.example.test"],
            "nginx_patches_client_ca": os.path.join(self.root, "test-client/origin-pull-ca.pem"),
            "nginx_patches_client_ca_sha256": [],  # the tree's own test CA, not Cloudflare's
            "nginx_patches_real_ip_from": ["127.0.0.0/8"],
            "nginx_patches_test_command": nginx_cmd + " -t",
            "nginx_patches_reload_command": nginx_cmd + " -s reload",
        }
        variables.update(overrides)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1")
        return subprocess.run(
            [
                os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
                "tests/system/playbooks/nginx_patches.yml",
                "-e",
                json.dumps(variables),
                *args,
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=300,
            check=False,
        )

    def reload(self):
        """Signal a reload; nginx applies it asynchronously, so callers poll with wait_for."""
        assert tree.nginx(self.root, "-s", "reload").returncode == 0


@pytest.fixture
def nas(tmp_path, dsm_lab):
    root = tree.build(str(tmp_path / "nas"))  # DSM 7's layout
    started = tree.nginx(root)
    assert started.returncode == 0, started.stderr
    nas = Nas(root, dsm_lab, str(tmp_path / "cache"))
    try:
        with nas.api() as api:  # a second published service (the mock's seed has photos.example.test)
            api.write(RP, "create", 1, entry=rp_entry("media", "media.example.test"))
        dsm_lab.configure(task_root=root, nginx_root=root)  # the mock rewrites the tree from its entries now
        assert wait_for(lambda: nas.get("photos.example.test", False) == (200, "photos client=127.0.0.1"))
        yield nas
    finally:
        tree.nginx(root, "-s", "quit")


def wait_for(check, attempts=50):
    """Poll `check` for up to five seconds (nginx swaps workers after a reload)."""
    for _attempt in range(attempts):
        if check():
            return True
        time.sleep(0.1)
    return False


def refuses(nas, host):
    return wait_for(lambda: nas.get(host, False)[0] == 400)


def answers(nas, host):
    return wait_for(lambda: nas.get(host, False)[0] == 200)


def recap(run):
    return run.stdout[-3000:] + run.stderr[-2000:]


def test_patch_through_two_root_tasks_then_unchanged_then_a_host_taken_off(nas):
    run = nas.role()
    assert run.returncode == 0 and "changed=0" not in run.stdout, recap(run)
    assert refuses(nas, "photos.example.test")
    status, body = nas.get("photos.example.test", True, {"CF-Connecting-IP": "198.51.100.23"})
    assert status == 200 and body == "photos client=198.51.100.23"
    assert nas.get("media.example.test", False) == (200, "media client=127.0.0.1")  # not listed: left alone
    tasks = nas.tasks()
    boot = tasks["event"]["homelab.nas nginx patch (boot)"]
    (scheduled,) = tasks["scheduled"].values()
    assert boot["event"] == "bootup" and boot["enable"] and "0" in boot["owner"]
    assert scheduled["owner"] == "root" and scheduled["schedule"]["repeat_min"] == 5
    assert scheduled["extra"]["script"] == boot["operation"]
    # Self-contained: the snippet and the CA travel inside the script.
    script = boot["operation"]
    assert "ssl_verify_client on;" in script and "-----BEGIN CERTIFICATE-----" in script
    # The rendered script passes shellcheck (tests/system-deps.sh installs it).
    linted = subprocess.run(
        ["shellcheck", "-s", "bash", "-"], input=script, capture_output=True, text=True, check=False
    )
    assert linted.returncode == 0, linted.stdout
    last = tasks["results"]["scheduled:%d" % scheduled["id"]][0]
    assert last["exit_code"] == 0 and last["output"].startswith("changed: hosts patched: photos.example.test")

    again = nas.role()
    assert again.returncode == 0 and "changed=0" in again.stdout, recap(again)
    last = nas.tasks()["results"]["scheduled:%d" % scheduled["id"]][0]
    assert last["output"].strip() == "unchanged: hosts patched: photos.example.test"

    # Another list: photos loses its include, media gets one (names compared case-insensitively, no trailing dot).
    moved = nas.role(nginx_patches_hostnames=["Media.Example.Test."])
    assert moved.returncode == 0 and "changed=0" not in moved.stdout, recap(moved)
    assert refuses(nas, "media.example.test")
    assert answers(nas, "photos.example.test")
    assert open(nas.server_file).read().count("# homelab.nas") == 1
    # No hostname at all: the patch comes off every server block.
    off = nas.role(nginx_patches_hostnames=[])
    assert off.returncode == 0 and "changed=0" not in off.stdout, recap(off)
    assert answers(nas, "media.example.test") and "# homelab.nas" not in open(nas.server_file).read()


def test_broken_directive_leaves_the_previous_files_and_nginx_serving(nas):
    assert nas.role().returncode == 0
    before = nas.digest()
    broken = nas.role(nginx_patches_extra_directives=["ssl_verify_depth not-a-number;"])
    assert broken.returncode != 0
    # nginx's own message, through the task's result.
    assert "[emerg]" in broken.stdout and "ssl_verify_depth" in broken.stdout, recap(broken)
    assert "the previous files are back" in broken.stdout
    assert nas.digest() == before
    assert nas.get("photos.example.test", False)[0] == 400
    assert nas.get("photos.example.test", True)[0] == 200


def test_a_failed_or_interrupted_reload_is_redone_by_the_next_run(nas):
    """Patched but not served (issue 12): a reload that fails once, then one during which the run dies (killed as a
    Task Scheduler time-out or a power cut would): the next run reloads, though the files on disk are patched."""
    nginx_cmd = "nginx -p %s/ -c %s/etc/nginx/nginx.conf" % (nas.root, nas.root)
    flag = os.path.join(nas.root, "reload-failed-once")
    fails_once = "if [ -e %s ]; then %s -s reload; else touch %s; exit 1; fi" % (flag, nginx_cmd, flag)
    failed = nas.role(nginx_patches_reload_command=fails_once)
    assert failed.returncode != 0 and "nginx did not reload" in failed.stdout, recap(failed)
    assert "# homelab.nas" not in open(nas.server_file).read()  # put back
    again = nas.role(nginx_patches_reload_command=fails_once)
    assert again.returncode == 0 and "changed=0" not in again.stdout, recap(again)
    assert refuses(nas, "photos.example.test")

    # The patch taken off, then put on by a run killed in its reload: the files are patched, nginx never read them.
    assert nas.role(nginx_patches_hostnames=[]).returncode == 0
    assert answers(nas, "photos.example.test")
    os.unlink(flag)
    # The reload command's parent is the $(...) subshell; its parent is the script.
    dies_once = 'if [ -e %s ]; then %s -s reload; else touch %s; kill -KILL "$(cut -d" " -f4 /proc/$PPID/stat)"; fi' % (
        flag,
        nginx_cmd,
        flag,
    )
    killed = nas.role(nginx_patches_reload_command=dies_once)
    assert killed.returncode != 0, recap(killed)
    assert "# homelab.nas" in open(nas.server_file).read()
    assert nas.get("photos.example.test", False)[0] == 200  # patched on disk, not served
    rerun = nas.role(nginx_patches_reload_command=dies_once)
    assert rerun.returncode == 0 and "changed=0" not in rerun.stdout, recap(rerun)
    last = nas.tasks()["results"]
    assert any("reloaded: nginx had not read these files" in r[0]["output"] for r in last.values()), last
    assert refuses(nas, "photos.example.test"), "the rerun did not reload the patched files"
    assert nas.get("photos.example.test", True)[0] == 200
    settled = nas.role(nginx_patches_reload_command=dies_once)
    assert settled.returncode == 0 and "changed=0" in settled.stdout, recap(settled)


def test_a_reverse_proxy_edit_then_a_tick_and_an_update_then_a_boot_put_the_patch_back(nas):
    assert nas.role().returncode == 0
    assert refuses(nas, "photos.example.test")
    with nas.api() as api:  # an edit in DSM's UI: DSM rewrites the file and reloads nginx
        entry = next(e for e in api.read(RP, "list", 1)["entries"] if e["frontend"]["fqdn"] == "photos.example.test")
        entry["backend"]["port"] = 8081
        api.write(RP, "update", 1, entry=entry)
    assert answers(nas, "photos.example.test"), "the edit kept the patch"
    # The scheduled task's next run; meanwhile another run holds the lock, so this one waits for it.
    lock = os.path.join(nas.root, "etc/nginx/homelab-nas.lock")
    with open(lock, "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        tick = threading.Thread(target=nas.dsm_lab.configure, kwargs={"tick": True})
        tick.start()
        time.sleep(1.5)
        assert tick.is_alive() and "# homelab.nas" not in open(nas.server_file).read()
    tick.join(60)
    assert refuses(nas, "photos.example.test"), "the tick did not put the patch back"

    # A DSM update: the configuration regenerated, /usr/local wiped; the boot-up task repatches.
    tree.regenerate(nas.root)
    shutil.rmtree(os.path.join(nas.root, "usr/local"), ignore_errors=True)
    nas.reload()
    assert answers(nas, "photos.example.test")
    nas.dsm_lab.configure(boot=True)
    assert refuses(nas, "photos.example.test"), "the boot-up task did not put the patch back"
    assert nas.get("photos.example.test", True)[0] == 200
    boot_runs = nas.tasks()["results"]["event:homelab.nas nginx patch (boot)"]
    assert boot_runs[0]["trigger"] == "bootup" and boot_runs[0]["output"].startswith("changed:")


def test_check_mode_writes_nothing_and_a_bad_variable_stops_before_any_write(nas):
    before, tasks = nas.digest(), nas.tasks()
    run = nas.role("--check", "--diff")
    assert run.returncode == 0 and "ssl_verify_client on;" in run.stdout, recap(run)  # the diff shows the script
    assert nas.digest() == before and nas.tasks() == tasks
    assert not os.path.exists(os.path.join(nas.root, "etc/nginx/homelab-nas"))

    bad = nas.role(nginx_patches_extra_directives=["add_header X-A 1;\nreturn 200;"])
    assert bad.returncode != 0 and "nginx_patches_extra_directives[0]" in bad.stdout, recap(bad)
    assert nas.digest() == before and nas.tasks() == tasks


def test_dsm6_layout_patches_app_d(tmp_path, dsm_lab):
    root = tree.build(str(tmp_path / "nas6"), layout="dsm6")
    assert tree.nginx(root).returncode == 0
    try:
        dsm_lab.configure(task_root=root, nginx_root=root, nginx_layout="dsm6")
        nas = Nas(root, dsm_lab, str(tmp_path / "cache"))
        run = nas.role(nginx_patches_dsm_layout="dsm6")
        assert run.returncode == 0, recap(run)
        assert refuses(nas, "photos.example.test")
        assert "# homelab.nas" in open(os.path.join(root, tree.SERVER_FILES["dsm6"])).read()
        assert not os.path.exists(os.path.join(root, tree.SERVER_FILES["dsm7"]))
    finally:
        tree.nginx(root, "-s", "quit")


def files_under(root):
    """Every file of the tree, relative to it (a stray file shows here)."""
    return sorted(os.path.relpath(os.path.join(d, f), root) for d, _dirs, names in os.walk(root) for f in names)


def test_a_name_without_a_server_block_fails_naming_it_and_the_others_are_still_patched(nas):
    """Issue 12 item 3: a typo (or a name DSM has no rule for) is an error, not a silent no-op; the names found are
    patched all the same; no stray file appears. A server file that moved fails the same way."""
    before = set(files_under(nas.root))
    run = nas.role(nginx_patches_hostnames=["Photos.Example.Test.", "fotos.example.test"])
    assert run.returncode != 0, recap(run)
    assert "no server block for: fotos.example.test" in run.stdout, recap(run)
    assert "hosts patched: photos.example.test" in run.stdout
    assert refuses(nas, "photos.example.test")
    assert set(files_under(nas.root)) - before == {
        "etc/nginx/homelab-nas.lock",
        "etc/nginx/homelab-nas/origin-pull-ca.pem",
        "etc/nginx/homelab-nas/server.conf",
        "etc/nginx/homelab-nas/served",  # the stamp of what nginx now serves
    }
    again = nas.role(nginx_patches_hostnames=["photos.example.test", "fotos.example.test"])
    assert again.returncode != 0 and "unchanged: hosts patched: photos.example.test" in again.stdout, recap(again)

    moved = os.path.join(nas.root, "etc/nginx/sites-enabled/moved.conf")
    gone = nas.role(nginx_patches_server_files=[moved])
    assert gone.returncode != 0 and "no server block for: photos.example.test" in gone.stdout, recap(gone)
    assert not os.path.exists(moved)


def test_injections_in_the_role_variables_are_refused_before_anything_is_written(nas):
    """Issue 12 item 2: the issue's injections (a command substitution in a hostname, a directive smuggled in
    set_real_ip_from) and more, in check mode and not: every variable named, no task, no file, no command run."""
    before, tasks = nas.digest(), nas.tasks()
    pwned = os.path.join(nas.root, "pwned")
    bad = {
        "nginx_patches_hostnames": [
            "$(touch %s).example.test" % pwned,
            "`touch %s`.example.test" % pwned,
            "photos.example.test\nssl_verify_client off",
            "photos.example.test'; touch %s; '" % pwned,
            "phötos.example.test",
            "a" * 64 + ".example.test",
        ],
        "nginx_patches_real_ip_from": [
            "127.0.0.0/8;\n}\nserver { listen 8081; return 200; }",
            "127.0.0.0/8 # x",
            "0.0.0.0/0",
            "::/0",
        ],
    }
    for args in (("--check",), ()):
        run = nas.role(*args, **bad)
        assert run.returncode != 0, recap(run)
        for index in range(6):
            assert "nginx_patches_hostnames[%d]" % index in run.stdout, recap(run)
        for index in range(4):
            assert "nginx_patches_real_ip_from[%d]" % index in run.stdout, recap(run)
        assert nas.digest() == before and nas.tasks() == tasks
        assert not os.path.exists(pwned)
