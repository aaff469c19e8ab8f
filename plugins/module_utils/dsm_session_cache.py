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
import json
import os
import tempfile

DEFAULT_CACHE_DIR = os.path.join("~", ".cache", "homelab.nas", "dsm")


class SessionCache:
    """One account on one DSM: `session` (sid, synotoken) and `device` (2FA device token)."""

    def __init__(self, directory, base_url, username):
        self.directory = os.path.expanduser(directory or DEFAULT_CACHE_DIR)
        key = hashlib.sha256(("%s|%s" % (base_url, username)).encode("utf-8")).hexdigest()[:32]
        self._session_path = os.path.join(self.directory, key + ".session.json")
        self._device_path = os.path.join(self.directory, key + ".device.json")

    def load_session(self):
        return self._read(self._session_path)

    def save_session(self, sid, synotoken, apis=None):
        """The session, and DSM's API list (paths and versions) so a reused session needs no discovery."""
        self._write(self._session_path, {"sid": sid, "synotoken": synotoken, "apis": apis})

    def drop_session(self):
        self._remove(self._session_path)

    def load_device_id(self):
        data = self._read(self._device_path)
        return data.get("device_id") if data else None

    def save_device_id(self, device_id):
        self._write(self._device_path, {"device_id": device_id})

    def _read(self, path):
        try:
            with open(path, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _write(self, path, data):
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        os.chmod(self.directory, 0o700)
        # mkstemp creates the file 0600; os.replace makes the update atomic.
        handle, tmp = tempfile.mkstemp(dir=self.directory, prefix=".tmp-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(data, out)
            os.replace(tmp, path)
        except BaseException:
            self._remove(tmp)
            raise

    @staticmethod
    def _remove(path):
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass


class TrustedCertificates(SessionCache):
    """The SHA-256 pins of the certificates this collection made DSM present (dsm_certificate binding one to DSM
    Desktop Service over a verified connection), per base URL, so later tasks and runs keep verifying DSM's TLS.
    Kept next to the session cache, whether or not sessions are cached."""

    KEEP = 4  # the newest few: a renewal's old and new certificate, whichever DSM presents while it restarts

    def __init__(self, directory, base_url):  # pylint: disable=super-init-not-called
        self.directory = os.path.expanduser(directory or DEFAULT_CACHE_DIR)
        key = hashlib.sha256(("tls|%s" % base_url).encode("utf-8")).hexdigest()[:32]
        self.path = os.path.join(self.directory, key + ".tls.json")

    def load(self):
        data = self._read(self.path) or {}
        pins = data.get("sha256")
        return [str(pin) for pin in pins] if isinstance(pins, list) else []

    def add(self, digest):
        pins = [pin for pin in self.load() if pin != digest] + [digest]
        self._write(self.path, {"sha256": pins[-self.KEEP :]})
