"""Every plugin compiles on every Python the collection meets: 3.8 (DSM 7's, for router_port_forward on the NAS)
to 3.13. CI has each under pyenv; ansible-test's compile test runs on the test venv's Python only."""

from __future__ import annotations

import glob
import os
import subprocess

import pytest

from tests.utils.pythons import interpreter

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VERSIONS = ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]
COMPILE_ALL = """
import sys
bad = []
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as handle:
        try:
            compile(handle.read(), path, "exec")
        except SyntaxError as error:
            bad.append("%s:%s: %s" % (path, error.lineno, error.msg))
print("\\n".join(bad))
"""


def _interpreter(version):
    return interpreter(version) or pytest.fail("no python%s on PATH or in pyenv (CI has pyenv's 3.8-3.13)" % version)


@pytest.mark.parametrize("version", VERSIONS)
def test_every_plugin_compiles(version):
    files = sorted(glob.glob(os.path.join(ROOT, "plugins", "*", "*.py")))
    assert len(files) > 30
    run = subprocess.run(
        [_interpreter(version), "-c", COMPILE_ALL, *files], capture_output=True, text=True, timeout=120, check=True
    )
    assert run.stdout.strip() == ""
