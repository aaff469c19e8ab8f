"""One JSON document of state per mock: a lock, snapshots, reset to a seed, and persistence (mode 0600)."""

from __future__ import annotations

import copy
import json
import os
import threading


class JsonState:
    """`initial` builds a fresh document; with `path` every save() writes it atomically to disk and a
    restart reads it back (the lab's CLI restarts mocks over the same directory)."""

    def __init__(self, initial, path=None):
        self._initial = initial
        self.path = path
        self.lock = threading.RLock()
        if path and os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                self.data = json.load(handle)
        else:
            self.data = initial()
            self.save()

    def reset(self):
        with self.lock:
            self.data = self._initial()
            self.save()

    def save(self):
        if not self.path:
            return
        with self.lock:
            tmp = self.path + ".tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(self.data, out, indent=1, sort_keys=True)
            os.replace(tmp, self.path)

    def snapshot(self):
        with self.lock:
            return copy.deepcopy(self.data)
