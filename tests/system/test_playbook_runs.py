"""Whole ansible-playbook runs against the mock DSM: secrets stay out of -vvv logs; docs render."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.lab import pki

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, "tests", "output", "collections")
BIN = os.path.dirname(sys.executable)


def ansible(tool, *args, extra_env=None):
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
    )
    env.update(extra_env or {})
    return subprocess.run(
        [os.path.join(BIN, tool), *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300, check=False
    )


def test_vvv_log_holds_neither_private_key_nor_password(dsm_lab, tmp_path):
    files = pki.write(str(tmp_path / "pki"))
    log_path = tmp_path / "ansible.log"
    extra = json.dumps(
        {
            "lab": {"https_port": dsm_lab.https_port, "ca_path": dsm_lab.ca_path},
            "pki": files,
            "cache_dir": str(tmp_path / "cache"),
            "dsm_password": "lab-password",
        }
    )
    run = ansible(
        "ansible-playbook",
        "-vvv",
        "--diff",
        "-e",
        extra,
        "tests/system/playbooks/certificate.yml",
        extra_env={"ANSIBLE_LOG_PATH": str(log_path)},
    )
    output = run.stdout + run.stderr + log_path.read_text()
    assert run.returncode == 0, output[-3000:]
    assert "changed=1" in run.stdout
    # Base64 lines of the key that are not also in the (public) certificate: a PKCS#8 RSA key carries
    # the public modulus too, and its lines can align with the certificate's.
    public = open(files["leaf.pem"]).read()
    key_lines = [
        line for line in open(files["leaf.key"]).read().splitlines() if "-----" not in line and line not in public
    ]
    assert len(key_lines) > 10
    leaked = [line for line in key_lines if line in output]
    assert not leaked, "private key material in the -vvv output"
    assert "PRIVATE KEY" not in output
    assert "lab-password" not in output
    # The certificate did land, so the test looked at a real run.
    assert any(c["desc"] == "inline-key" for c in dsm_lab.state()["certificates"].values())


MODULES = sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, "plugins", "modules")) if name.endswith(".py"))


@pytest.mark.parametrize("module", MODULES)
def test_ansible_doc_renders(module):
    run = ansible("ansible-doc", "homelab.nas.%s" % module)
    assert run.returncode == 0, run.stderr
    assert "> MODULE homelab.nas.%s" % module in run.stdout
    assert "EXAMPLES" in run.stdout and "RETURN VALUES" in run.stdout


def _runtime_groups():
    import yaml

    with open(os.path.join(ROOT, "meta", "runtime.yml"), encoding="utf-8") as handle:
        groups = yaml.safe_load(handle)["action_groups"]
    return {
        module: sorted("homelab.nas.%s" % group for group, members in groups.items() if module in members)
        for module in MODULES
    }


@pytest.mark.parametrize("module", MODULES)
def test_documented_action_group_is_the_runtime_one(module):
    """A module's docs name the module_defaults group that meta/runtime.yml really puts it in."""
    run = ansible("ansible-doc", "--json", "homelab.nas.%s" % module)
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)["homelab.nas.%s" % module]["doc"]
    documented = sorted(doc.get("attributes", {}).get("action_group", {}).get("membership", []))
    assert documented == _runtime_groups()[module]


FILTERS = sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, "plugins", "filter")) if name.endswith(".py"))


@pytest.mark.parametrize("name", FILTERS)
def test_filter_docs_render(name):
    run = ansible("ansible-doc", "-t", "filter", "homelab.nas.%s" % name)
    assert run.returncode == 0, run.stderr
    assert "homelab.nas.%s" % name in run.stdout
    assert "EXAMPLES" in run.stdout and "RETURN VALUES" in run.stdout


def test_old_cloudflare_ips_name_redirects_with_a_deprecation(cloudflare_lab):
    from tests.lab.mock_cloudflare.seed import LAB_TOKEN

    run = ansible(
        "ansible",
        "localhost",
        "-m",
        "homelab.nas.cloudflare_ips",
        "-a",
        json.dumps(
            {"api_token": LAB_TOKEN, "api_base_url": cloudflare_lab.api_base_url, "ca_path": cloudflare_lab.ca_path}
        ),
        extra_env={"ANSIBLE_DEPRECATION_WARNINGS": "true"},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "173.245.48.0/20" in run.stdout
    assert "cloudflare_ips_info" in run.stderr and "2.0.0" in run.stderr


def test_api_modules_run_in_the_worker_as_modules_would(dsm_lab, tmp_path):
    """Issue 15: the DSM modules run in the controller's worker (plugins/action, plugin_utils/in_process.py), with
    no module process (ping, a module, still gets one), and behave as modules: module_defaults, check mode (DSM
    unchanged), --diff, loops, argument errors; the password is not in the -vvv output."""
    before = dsm_lab.state()
    extra = json.dumps(
        {
            "lab": {"https_port": dsm_lab.https_port, "ca_path": dsm_lab.ca_path},
            "cache_dir": str(tmp_path / "cache"),
            "dsm_password": "lab-password",
        }
    )
    run = ansible("ansible-playbook", "-vvv", "--diff", "-e", extra, "tests/system/playbooks/in_process.yml")
    assert run.returncode == 0, run.stdout[-3000:]
    assert "AnsiballZ_ping.py" in run.stdout
    assert "AnsiballZ_dsm" not in run.stdout and "dsm_info.py" not in run.stdout
    assert "lab-password" not in run.stdout + run.stderr
    # --diff shows the planned change of the check-mode task.
    assert "security_only" in run.stdout.split("A change in check mode")[1].split("TASK [")[0]
    after = dsm_lab.state()
    assert after["upgrade"] == before["upgrade"] and after["users"] == before["users"]


def test_router_port_forward_runs_in_the_worker_only_with_the_controllers_python(router_lab, tmp_path):
    """router_port_forward on the controller with the controller's own Python runs in the worker; with another
    interpreter it is a module process (test_router_on_dsm_python.py runs it with Python 3.8 that way)."""
    args = {"igd_url": router_lab.igd_url, "mappings": [{"external_port": 443, "internal_port": 5001}]}
    extra = json.dumps({"args": args, "result_file": str(tmp_path / "result.json")})
    run = ansible("ansible-playbook", "-vvv", "-e", extra, "tests/system/playbooks/router.yml")
    assert run.returncode == 0, run.stdout[-3000:]
    assert json.loads((tmp_path / "result.json").read_text(encoding="utf-8"))["changed"] is True
    assert "AnsiballZ_router_port_forward" not in run.stdout
    assert "AnsiballZ_copy.py" in run.stdout  # the next task, a module, still gets its process
