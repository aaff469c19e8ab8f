"""Every module's EXAMPLES block runs against a freshly started lab, in one ansible-playbook run.

The examples are taken from plugins/modules/*.py (parsed with yaml) and run as they are written, one play per
module, with module_defaults for group/homelab.nas.dsm, cloudflare and router pointing at the lab (as
playbooks/site.yml has them). What a user replaces with their own values is replaced with the lab's, and only
that (substitutions()): the zone example.com by the lab's example.test, the DSM host nas.lan and the router URL by
the lab's, the LAN 192.168.1.0/24 by loopback (the controller's side of the lab), file paths under /etc/homelab/
and /volume1/homelab/ by files in the test's directory, the documentation address 203.0.113.7 by the router's
public one, the tunnel's account id, the synology.me name and the ACME directory by the lab's, the DSM port 8443
by a free port. Variables the examples reference (vault_*, otp) are play vars; registered results come from the
examples themselves, so the plays run in an order where each finds what it uses (ORDER). Two examples set
module_defaults of their own for a group, which replace the play's for that group: the lab's URL, CA and port
come to them as module defaults of the module itself. tls_probe_info probes the lab's DSM in place of the edge
(it serves photos.example.test with the certificate dsm_certificate's example bound to it, and HSTS since
dsm_web's example); the DSM has no web page, so the probe asks a page it has, its API's list.

Real runs, but for one module: dsm_letsencrypt runs in check mode, because its request needs DSM to reach an
ACME CA over HTTP-01 for names the controller resolves (tests/system/test_tls_letsencrypt_dsm.py covers the real
request). Every other example changes the lab for real: each play's changes are ones the later plays survive, and
the two that could cut the controller off run last among the DSM plays, in an order that keeps it in (dsm_web moves
DSM's port and the later plays follow it through the dsm_port fact, as the example shows; dsm_firewall, last,
admits that port from the LAN). Two tasks fail in the lab with the message their module documents
(EXPECTED_FAILURES): dsm_letsencrypt's DNS check (the lab's names do not resolve), and dsm_security's refusal to
enforce 2-step verification on the account it logs in with, which has none (the lab's ansible account). A failed
example is recorded and the next module's play goes on, so one run names every broken example.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys

import yaml

from tests.lab import pki
from tests.lab.acme import free_port
from tests.lab.mock_cloudflare.seed import ACCOUNT, LAB_TOKEN, ZONE_ID, ZONE_NAME
from tests.lab.mock_dsm.seed import LAB_PASSWORD
from tests.lab.mock_router.igd import DEFAULT_CONFIG

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, "tests", "output", "collections")
MODULES_DIR = os.path.join(ROOT, "plugins", "modules")

# The order of the plays: registered results (cloudflare, router) before their users; dsm_web's port move and
# dsm_firewall last among the DSM modules; tls_probe_info probes DSM after dsm_web switched HSTS on; the tunnel
# (which takes its hostname's CNAME away again) before the A records of the same name; dsm_info checks the default
# certificate dsm_certificate's example made.
ORDER = [
    "cloudflare_ips_info",
    "router_port_forward",
    "cloudflare_zone_settings",
    "cloudflare_tunnel",
    "cloudflare_dns_record",
    "cloudflare_dns_records",
    "cloudflare_origin_certificate",
    "acme_certificate",
    "dsm_session",
    "dsm_reverse_proxy",
    "dsm_certificate",
    "dsm_info",
    "dsm_security",
    "dsm_user",
    "dsm_update_policy",
    "dsm_ddns",
    "dsm_services",
    "dsm_task",
    "dsm_letsencrypt",
    "dsm_web",
    "tls_probe_info",
    "dsm_firewall",
]
CHECK_MODE = {"dsm_letsencrypt"}
# Tasks that fail in the lab with the message their module documents: (module, task name) -> part of the message.
EXPECTED_FAILURES = {
    ("dsm_letsencrypt", "A Let's Encrypt certificate from DSM's own client, made the default"): (
        "every name must resolve to the public address"
    ),
    # The lab's account has no 2-step verification; the module refuses before any write, as documented.
    ("dsm_security", "Cloudflare in front, protections on, 2FA for administrators"): (
        "the account this task logs in with, and it has no 2-step verification"
    ),
}


def examples(module):
    """The module's EXAMPLES string, read from its source (as ansible-doc does, without importing it)."""
    with open(os.path.join(MODULES_DIR, module + ".py"), encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "EXAMPLES":
            return node.value.value
    raise AssertionError("%s has no EXAMPLES" % module)


def substitutions(files, dsm_lab, router_lab, acme_lab, new_dsm_port):
    """(module or None for all, text, replacement): the user's own values in the examples, as the lab has them."""
    return [
        (None, "example.com", ZONE_NAME),
        (None, "/etc/homelab/", files + "/"),
        (None, "/volume1/homelab/", files + "/"),
        (None, "nas.lan", dsm_lab.host),
        (None, "192.168.1.0/24", "127.0.0.0/8"),
        (None, "http://192.168.1.1:5000/rootDesc.xml", router_lab.igd_url),
        ("dsm_ddns", "mynas.synology.me", "labnas.synology.me"),
        # A public address (203.0.113.0/24 is for documentation only, and Cloudflare's proxy refuses it): the router's.
        ("cloudflare_dns_records", "203.0.113.7", DEFAULT_CONFIG["external_ip"]),
        ("cloudflare_tunnel", "0123456789abcdef0123456789abcdef", ACCOUNT["id"]),
        ("acme_certificate", "acme_directory: production", "acme_directory: " + acme_lab.directory_url),
        ("dsm_web", "8443", str(new_dsm_port)),
        # The LAN reaches DSM on the port the lab's DSM listens on (not 5000/5001) after dsm_web moved it.
        ("dsm_firewall", "ports: [dsm, https, smb]", "ports: [dsm, https, smb, %d]" % new_dsm_port),
        # The probes go to the lab's DSM, with HSTS on since dsm_web's example, instead of a public name.
        (
            "tls_probe_info",
            "host: photos.%s" % ZONE_NAME,
            "host: %s\n    server_name: photos.%s" % (dsm_lab.host, ZONE_NAME),
        ),
        ("tls_probe_info", "host: 203.0.113.7", "host: %s" % dsm_lab.host),
        (
            "tls_probe_info",
            "server_names: [photos.%s, files.%s]" % (ZONE_NAME, ZONE_NAME),
            "host: %s\n    server_names: [photos.%s]" % (dsm_lab.host, ZONE_NAME),
        ),
    ]


def example_tasks(module, replace):
    text = examples(module)
    for where, old, new in replace:
        if where in (None, module):
            text = text.replace(old, new)
    tasks = yaml.safe_load(text)
    for task in tasks:
        expected = EXPECTED_FAILURES.get((module, task["name"]))
        if expected:
            task.update(ignore_errors=True, register="expected_failure")
            yield task
            yield {
                "name": "It failed as documented",
                "ansible.builtin.assert": {
                    "that": ["expected_failure is failed", "%r in expected_failure.msg" % expected],
                    "fail_msg": "{{ expected_failure.msg | default('no failure') }}",
                },
            }
        else:
            yield task


def play(module, replace, lab_vars):
    record = "{{ example_failures | default([]) + [%r ~ ': ' ~ ansible_failed_task.name ~ ': ' ~ " % module
    record += "(ansible_failed_result.msg | default(ansible_failed_result))] }}"
    return {
        "name": "EXAMPLES of " + module,
        "hosts": "localhost",
        "connection": "local",
        "gather_facts": False,
        "check_mode": module in CHECK_MODE,
        "vars": lab_vars,
        "module_defaults": {
            "group/homelab.nas.dsm": {
                "host": "{{ dsm_host }}",
                "port": "{{ dsm_port }}",
                "username": "ansible",
                "password": "{{ vault_dsm_password }}",
                "ca_path": "{{ dsm_ca_path }}",
                "session_cache_dir": "{{ dsm_session_cache_dir }}",
            },
            "group/homelab.nas.cloudflare": {
                "api_token": "{{ vault_cloudflare_token }}",
                "api_base_url": "{{ cloudflare_api_base_url }}",
                "ca_path": "{{ cloudflare_ca_path }}",
            },
            "group/homelab.nas.router": {"igd_url": "{{ router_igd_url }}"},
            "homelab.nas.acme_certificate": {
                "acme_ca_path": "{{ acme_ca_path }}",
                "propagation_seconds": 0,
                "acme_timeout": 60,
            },
            # Examples with module_defaults of their own for a group replace the play's for it: the lab's URL, CA
            # and port for those two modules.
            "homelab.nas.cloudflare_zone_settings": {
                "api_base_url": "{{ cloudflare_api_base_url }}",
                "ca_path": "{{ cloudflare_ca_path }}",
            },
            "homelab.nas.dsm_certificate": {
                "port": "{{ dsm_port }}",
                "ca_path": "{{ dsm_ca_path }}",
                "session_cache_dir": "{{ dsm_session_cache_dir }}",
            },
            "homelab.nas.cloudflare_origin_certificate": {"origin_ca_root_url": "{{ origin_ca_root_url }}"},
            # The lab's DSM stands in for the edge and the origin: it serves photos.example.test with the certificate
            # dsm_certificate's example bound to it (issued under the test root), and HSTS since dsm_web's example.
            # It has no web page, so the probe asks a page it has: its API's list (200).
            "homelab.nas.tls_probe_info": {
                "port": "{{ dsm_port }}",
                "ca_path": "{{ example_ca_path }}",
                "path": "/webapi/query.cgi?api=SYNO.API.Info&version=1&method=query&query=SYNO.API.Auth",
            },
        },
        "tasks": [
            {
                "block": list(example_tasks(module, replace)),
                "rescue": [{"name": "Record the failure", "ansible.builtin.set_fact": {"example_failures": record}}],
            },
            {
                "name": "Record the module as run",
                "ansible.builtin.set_fact": {"examples_run": "{{ examples_run | default([]) + [%r] }}" % module},
            },
        ],
    }


def test_every_example_runs_against_the_lab(dsm_lab, router_lab, cloudflare_lab, acme_lab, tmp_path):
    files = str(tmp_path / "files")
    keys = pki.write(files)
    os.rename(keys["leaf.pem"], os.path.join(files, "origin.pem"))
    os.rename(keys["chain.pem"], os.path.join(files, "origin_ca_rsa_root.pem"))
    script = os.path.join(files, "nginx-patch.sh")
    with open(script, "w", encoding="utf-8") as out:
        out.write('#!/bin/bash\necho "patched $*"\n')
    os.chmod(script, 0o755)
    acme_ca = tmp_path / "acme-ca.pem"
    acme_ca.write_text(open(acme_lab.ca_path, encoding="utf-8").read())
    cloudflare_lab.configure(challtestsrv_url=acme_lab.challtestsrv_url)
    new_dsm_port = free_port()

    lab_vars = {
        "dsm_host": dsm_lab.host,
        "dsm_port": dsm_lab.https_port,
        "dsm_ca_path": dsm_lab.ca_path,
        "dsm_session_cache_dir": str(tmp_path / "session-cache"),
        "cloudflare_api_base_url": cloudflare_lab.api_base_url,
        "cloudflare_ca_path": cloudflare_lab.ca_path,
        "router_igd_url": router_lab.igd_url,
        "origin_ca_root_url": cloudflare_lab.origin_ca_root_url,
        "example_ca_path": keys["root.pem"],
        "acme_ca_path": str(acme_ca),
        # What the examples take from a vault or the user.
        "vault_dsm_password": LAB_PASSWORD,
        "vault_cloudflare_token": LAB_TOKEN,
        "vault_origin_key": open(keys["leaf.key"], encoding="utf-8").read(),
        "vault_dyn_password": "lab-dyn-password",
        "otp": "123456",
    }
    replace = substitutions(files, dsm_lab, router_lab, acme_lab, new_dsm_port)
    modules = sorted(name[:-3] for name in os.listdir(MODULES_DIR) if name.endswith(".py"))
    assert sorted(ORDER) == modules, "ORDER must name every module once"
    plays = [play(module, replace, lab_vars) for module in ORDER]
    plays.append(
        {
            "name": "Every example ran",
            "hosts": "localhost",
            "connection": "local",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "No example failed",
                    "ansible.builtin.assert": {
                        "that": ["example_failures | default([]) == []", "examples_run == %s" % json.dumps(ORDER)],
                        "fail_msg": "{{ example_failures | default([]) | to_nice_yaml }}",
                    },
                }
            ],
        }
    )
    playbook = tmp_path / "examples.yml"
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
    )
    run = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-v", str(playbook)],
        capture_output=True,
        text=True,
        cwd=str(tmp_path),
        env=env,
        timeout=600,
        check=False,
    )
    (tmp_path / "run.log").write_text(run.stdout + run.stderr)
    assert run.returncode == 0, (run.stdout + run.stderr)[-6000:]

    # What the examples did, seen in the mocks.
    dsm = dsm_lab.state()
    descriptions = {c["desc"] for c in dsm["certificates"].values()}
    assert {"cloudflare-origin", "letsencrypt"} <= descriptions
    records = {r["name"] for r in cloudflare_lab.state()["dns_records"][ZONE_ID].values() if r["type"] == "A"}
    assert {"photos." + ZONE_NAME, "media." + ZONE_NAME} <= records
    mappings = [(m["NewExternalPort"], m["NewInternalPort"]) for m in router_lab.state()["mappings"]]
    assert mappings == [(443, 443)]
