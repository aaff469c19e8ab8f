"""router_port_forward where users may run it in secure mode: on the NAS, whose DSM 7 ships Python 3.8.

ansible-core builds the module on the controller and runs it with the target's interpreter, so this runs
tests/system/playbooks/router.yml with `ansible_python_interpreter` set to a Python 3.8 (pyenv's on CI)
against the mock router: a forward is added, and the rerun changes nothing, its description cached.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.utils.pythons import interpreter

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, "tests", "output", "collections")
DSM_PYTHON = "3.8"


def _dsm_python():
    return interpreter(DSM_PYTHON) or pytest.fail(
        "no python%s on PATH or in pyenv: CI has pyenv's; install one to run this test" % DSM_PYTHON
    )


def _forward(args, tmp_path, python):
    result_file = tmp_path / "result.json"
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        ANSIBLE_NOCOLOR="1",
    )
    extra = {"args": args, "result_file": str(result_file), "ansible_python_interpreter": python}
    run = subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
            "-vvv",
            "-e",
            json.dumps(extra),
            os.path.join(ROOT, "tests", "system", "playbooks", "router.yml"),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    # A module process, with that interpreter (not the controller's worker, whose Python is another).
    assert "AnsiballZ_router_port_forward.py" in run.stdout and python in run.stdout
    return json.loads(result_file.read_text(encoding="utf-8"))


def test_port_forward_runs_on_dsm_python(router_lab, tmp_path):
    python = _dsm_python()
    version = subprocess.run(
        [python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert version == DSM_PYTHON
    args = {"igd_url": router_lab.igd_url, "mappings": [{"external_port": 443, "internal_port": 5001}]}
    first = _forward(args, tmp_path, python)
    assert first.get("failed") is not True, first
    assert first["changed"] is True
    assert [(m["NewExternalPort"], m["NewInternalPort"]) for m in router_lab.state()["mappings"]] == [(443, 5001)]
    router_lab.clear_log()
    second = _forward(args, tmp_path, python)
    assert second.get("failed") is not True and second["changed"] is False, second
    # The module process kept the description (igd_description_cache.py, standard library only) for the rerun.
    assert [c["method"] for c in router_lab.calls()] == ["GetExternalIPAddress", "GetSpecificPortMappingEntry"]
