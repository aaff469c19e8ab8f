# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""Small JSON entries kept between tasks and runs, one file per entry (docs/architecture.md, "Session reuse"):
KeyedCache for the Cloudflare zone ids and the router's descriptions; read_json, write_json and remove for
those and the DSM session cache, which names its own files and locks around them.

A KeyedCache file is named by a SHA-256 of its key, so a key may hold what must not be written (callers put a hash of a
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


def read_json(path):
    """The JSON object in `path`, or None when it is missing, unreadable or not an object."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_json(path, data):
    """Replace `path` with `data` as JSON: 0600 from its creation, its directory created 0700 when missing (an
    existing one is the user's and keeps its permissions)."""
    file_lock.ensure_private_dir(os.path.dirname(path))
    file_lock.write_atomic(path, json.dumps(data), 0o600)


def remove(path):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class KeyedCache:
    """Entries (JSON objects) by key in `directory`, each file named by the key's hash and ending in `suffix`
    (".zone.json"): caches with different suffixes share a directory without sharing entries."""

    def __init__(self, directory, suffix):
        self.directory = os.path.expanduser(directory)
        self.suffix = suffix

    def path(self, key):
        return os.path.join(self.directory, hashlib.sha256(key.encode("utf-8")).hexdigest()[:32] + self.suffix)

    def get(self, key):
        return read_json(self.path(key))

    def put(self, key, data):
        """Store `data` (a JSON object); None drops the entry."""
        if data is None:
            self.drop(key)
        else:
            write_json(self.path(key), data)

    def drop(self, key):
        remove(self.path(key))
