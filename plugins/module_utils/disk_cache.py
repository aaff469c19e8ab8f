# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""A small on-disk JSON cache on the controller, for what spares a request in later tasks and runs (zone ids, task
ids, verified certificates, public root certificates; docs/architecture.md, "Session reuse").

One file per entry, `<sha256 of the key, 32 hex>.<kind>.json`: the key itself is never written, so a key may hold
a hash of a secret (never a raw one). Files are replaced whole (file_lock.write_atomic), 0600 from their creation,
in a directory created 0700 when missing: a reader sees an old entry or a new one, never part of one, and two tasks
writing one entry write the same, so no lock is needed. A missing, unreadable or corrupt file is no entry.
A cached value is a hint: every user checks it against the API (or, for a public document, parses it) before
relying on it, and drops it when it proves stale.
"""

from __future__ import annotations

import hashlib
import json
import os

from ansible_collections.homelab.nas.plugins.module_utils import file_lock


class DiskCache:
    def __init__(self, directory, kind):
        self.directory = os.path.expanduser(directory)
        self.kind = kind

    def _path(self, key):
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
        return os.path.join(self.directory, "%s.%s.json" % (digest, self.kind))

    def get(self, key):
        """The value put under `key`, or None."""
        try:
            with open(self._path(key), encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return None

    def put(self, key, value):
        """Store a JSON-serialisable value; None drops the entry."""
        path = self._path(key)
        if value is None:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
            return
        file_lock.ensure_private_dir(self.directory)
        file_lock.write_atomic(path, json.dumps(value, sort_keys=True), 0o600)
