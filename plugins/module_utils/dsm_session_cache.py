# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""Per-controller cache of DSM sessions and device tokens (see docs/architecture.md).

Every module runs as its own process, so a play of N DSM tasks would log in N times.
DSM logins are slow, count towards auto-block, and a 2FA code cannot be replayed, so
the session (sid + SynoToken) is kept in a file readable by the controller user only,
keyed by base URL and account, and dropped as soon as DSM says it is no longer valid.
"""

from __future__ import annotations

import hashlib
import os

from ansible_collections.homelab.nas.plugins.module_utils import file_lock
from ansible_collections.homelab.nas.plugins.module_utils.keyed_cache import read_json, remove, write_json

DEFAULT_CACHE_DIR = os.path.join("~", ".cache", "homelab.nas", "dsm")


class SessionCache:
    """One account on one DSM: `session` (sid, synotoken) and `device` (2FA device token).

    Tasks of one run (forks) and of overlapping runs share these files: every write holds the entry's lock
    (file_lock, `.<key>.lock` beside it) and replaces the file atomically, so a reader never sees part of one.
    Two tasks that both log in each save their session, the last one stays; the other's is still valid in DSM.
    A session is dropped only if the file still holds the one this task used, never a newer one another task
    saved meanwhile."""

    def __init__(self, directory, base_url, username):
        self.directory = os.path.expanduser(directory or DEFAULT_CACHE_DIR)
        key = hashlib.sha256(("%s|%s" % (base_url, username)).encode("utf-8")).hexdigest()[:32]
        self._session_path = os.path.join(self.directory, key + ".session.json")
        self._device_path = os.path.join(self.directory, key + ".device.json")
        # DSM's API list (paths and versions) is the same for every account: keyed by the base URL alone.
        apis_key = hashlib.sha256(("apis|%s" % base_url).encode("utf-8")).hexdigest()[:32]
        self._apis_path = os.path.join(self.directory, apis_key + ".apis.json")
        self._lock_name = key
        self._sid = None  # the session this task loaded or saved, the only one it may drop

    def load_session(self):
        data = read_json(self._session_path)
        if data:
            self._sid = data.get("sid")
        return data

    def save_session(self, sid, synotoken):
        with self._locked():
            write_json(self._session_path, {"sid": sid, "synotoken": synotoken})
        self._sid = sid

    def logging_in(self):
        """Held from finding no usable session to saving the new one: forks that find none at once log in one at a
        time, and each after the first reuses the session the first saved (one login per run; a one-time code
        cannot be used twice). A lock of its own: the session file's lock is taken inside it, by save_session."""
        file_lock.ensure_private_dir(self.directory)
        lock = os.path.join(self.directory, ".%s.login.lock" % self._lock_name)
        return file_lock.locked(lock, what="DSM login")

    def load_apis(self):
        """DSM's API list as an earlier task or run found it, or None. Not a secret; it outlives the session (a
        logout ends the session, not the list), so a run's first task logs in without asking DSM for it."""
        data = read_json(self._apis_path)
        apis = data.get("apis") if data else None
        return apis if isinstance(apis, dict) and apis else None

    def save_apis(self, apis):
        write_json(self._apis_path, {"apis": apis})  # replaced whole and atomically: no lock needed

    def drop_session(self):
        """Forget the session this task used (DSM refused it, or it was logged out), unless another task has
        saved a newer one since: that one is left for the tasks that follow."""
        if not os.path.exists(self._session_path):
            return
        with self._locked():
            cached = read_json(self._session_path)
            if cached is None or not cached.get("sid") or cached.get("sid") == self._sid:
                remove(self._session_path)
        self._sid = None

    def load_device_id(self):
        data = read_json(self._device_path)
        return data.get("device_id") if data else None

    def save_device_id(self, device_id):
        with self._locked():
            write_json(self._device_path, {"device_id": device_id})

    def _locked(self):
        file_lock.ensure_private_dir(self.directory)
        lock = os.path.join(self.directory, ".%s.lock" % self._lock_name)
        return file_lock.locked(lock, what="DSM session cache")


class TrustedCertificates(SessionCache):
    """The SHA-256 pins of the certificates this collection made DSM present (dsm_certificate binding one to DSM
    Desktop Service over a verified connection), per base URL, so later tasks and runs keep verifying DSM's TLS.
    Kept next to the session cache, whether or not sessions are cached."""

    KEEP = 4  # the newest few: a renewal's old and new certificate, whichever DSM presents while it restarts

    def __init__(self, directory, base_url):  # pylint: disable=super-init-not-called
        self.directory = os.path.expanduser(directory or DEFAULT_CACHE_DIR)
        key = hashlib.sha256(("tls|%s" % base_url).encode("utf-8")).hexdigest()[:32]
        self.path = os.path.join(self.directory, key + ".tls.json")
        self._lock_name = key

    def load(self):
        data = read_json(self.path) or {}
        pins = data.get("sha256")
        return [str(pin) for pin in pins] if isinstance(pins, list) else []

    def add(self, digest):
        """Read, add, write under the lock: two tasks recording a pin at once both keep theirs."""
        with self._locked():
            pins = [pin for pin in self.load() if pin != digest] + [digest]
            write_json(self.path, {"sha256": pins[-self.KEEP :]})
