"""A Python interpreter of a given version for tests that run code under it (CI has pyenv's 3.8-3.13)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess


def interpreter(version):
    """The path of a python<version> that runs, or None: pyenv's versions first (pyenv's shims exist for versions
    that are not active, and fail when run), then PATH."""
    pyenv = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates = sorted(glob.glob(os.path.join(pyenv, "versions", version + ".*", "bin", "python" + version)))
    candidates.append(shutil.which("python" + version) or "")
    for python in filter(None, candidates):
        if subprocess.run([python, "-c", ""], capture_output=True, check=False).returncode == 0:
            return python
    return None
