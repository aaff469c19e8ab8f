# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""Locks and atomic writes for the files modules share on the host they run on (docs/architecture.md, "Locks").

Ansible runs every task as its own process, with up to `forks` of them at once, and two runs may overlap: every
read-modify-write of a shared file (the DSM session cache, the recorded certificate pins, the Origin CA key) and
every read-then-create against an API without uniqueness (Cloudflare DNS records) happens under an exclusive
`fcntl.flock` on a lock file. The kernel releases such a lock when its process ends, however it ends, so no lock
outlives a killed task; lock files are never removed (removing one would let two processes lock different
files of one name). Writes go to a temporary file in the same directory, created 0600, then `os.replace`, so a
reader sees the old file or the new one, never part of one. Standard library only.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import tempfile
import time

from ansible_collections.homelab.nas.plugins.module_utils.errors import HomelabError

# How long a task waits for a lock another task holds: longer than any one task's API calls take.
LOCK_TIMEOUT = 300
# Where per-zone (per-API-object) locks live unless HOMELAB_NAS_LOCK_DIR says otherwise.
DEFAULT_LOCK_DIR = os.path.join("~", ".cache", "homelab.nas", "locks")
LOCK_DIR_ENV = "HOMELAB_NAS_LOCK_DIR"


class LockError(HomelabError):
    """A lock that could not be taken: its file cannot be made, or another task held it past the timeout."""


def ensure_private_dir(directory):
    """Create `directory` (mode 0700) when missing; an existing directory keeps its owner's permissions."""
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o700, exist_ok=True)
    return directory


def sibling_lock(path):
    """The lock file of `path`: `.<name>.lock` in the same directory."""
    directory, name = os.path.split(os.path.abspath(path))
    return os.path.join(directory, ".%s.lock" % name)


def named_lock(*parts):
    """The lock file for a shared API object (a Cloudflare zone's records) in the lock directory, created 0700
    when missing: HOMELAB_NAS_LOCK_DIR, else ~/.cache/homelab.nas/locks on the host the module runs on."""
    directory = os.path.expanduser(os.environ.get(LOCK_DIR_ENV) or DEFAULT_LOCK_DIR)
    key = hashlib.sha256("|".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:32]
    return os.path.join(ensure_private_dir(directory), key + ".lock")


POLL_MAX = 0.05  # seconds between tries at most: a try is one system call


@contextlib.contextmanager
def locked(lock_path, timeout=None, what=None, poll=0.005):
    """Hold an exclusive flock on `lock_path` (created 0600 if missing) for the `with` block.

    Waits up to `timeout` seconds (LOCK_TIMEOUT) for another holder, then raises LockError naming the lock and
    `what` it guards. A waiter tries again every `poll` seconds, backing off to POLL_MAX: a holder's turn is
    usually one task's few milliseconds, and a longer sleep would leave the lock free while every waiter sleeps
    (forks on hosts that share a DSM take turns on it task by task)."""
    timeout = LOCK_TIMEOUT if timeout is None else timeout
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise LockError(
            "cannot open the lock file %s (%s); the directory must be writable by the user the module runs as"
            % (lock_path, exc.strerror or exc)
        )
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise
            if time.monotonic() >= deadline:
                raise LockError(
                    "waited %g s for the lock %s%s, which another task or run of homelab.nas holds; let it "
                    "finish (fuser %s names the process), then run again"
                    % (timeout, lock_path, " (%s)" % what if what else "", lock_path)
                )
            time.sleep(poll)
            poll = min(poll * 2, POLL_MAX)
        yield lock_path
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def write_atomic(path, data, mode=0o600):
    """Replace `path` with `data` (bytes or str): a temporary file in the same directory, created 0600 and set to
    `mode` before anything is written, flushed to disk, then renamed over `path`."""
    directory = os.path.dirname(os.path.abspath(path))
    handle, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-homelab-nas-")
    try:
        if mode != 0o600:
            os.fchmod(handle, mode)
        with os.fdopen(handle, "wb") as out:
            out.write(data.encode("utf-8") if isinstance(data, str) else data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
