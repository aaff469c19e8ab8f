# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""Small JSON entries kept between tasks and runs, one file per entry (docs/architecture.md, "Session reuse").

A file is named by a SHA-256 of its key, so a key may hold what must not be written (callers put a hash of a
secret in it, never the secret); it is replaced whole (file_lock.write_atomic), 0600 in a directory created
0700, so no lock is needed when two tasks write the same entry. A missing, unreadable or malformed entry reads as
None. Standard library only (the router module may run on the NAS with DSM's Python 3.8).
"""

from __future__ import annotations

import hashlib
import json
import os

from ansible_collections.homelab.nas.plugins.module_utils import file_lock


def cache_dir(env, default, given=None):
    """The directory: `given`, else the environment variable `env`, else `default` (under ~)."""
    return os.path.expanduser(given or os.environ.get(env) or default)


class KeyedCache:
    def __init__(self, directory, suffix):
        self.directory = directory
        self.suffix = suffix

    def path(self, key):
        return os.path.join(self.directory, hashlib.sha256(key.encode("utf-8")).hexdigest()[:32] + self.suffix)

    def get(self, key):
        try:
            with open(self.path(key), encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def put(self, key, data):
        file_lock.ensure_private_dir(self.directory)
        file_lock.write_atomic(self.path(key), json.dumps(data), 0o600)

    def drop(self, key):
        try:
            os.unlink(self.path(key))
        except FileNotFoundError:
            pass
