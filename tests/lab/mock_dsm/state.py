"""The mock DSM's persistent state: one JSON document, saved (mode 0600) after every change."""

from __future__ import annotations

import copy
import json
import os
import secrets
import string
import threading

from tests.lab.mock_dsm import seed

ID_ALPHABET = string.ascii_letters + string.digits


def new_id(length=6):
    """Server-generated ids, shaped like DSM's certificate ids."""
    return "".join(secrets.choice(ID_ALPHABET) for position in range(length))


class State:
    def __init__(self, path, config=None):
        self.path = path
        self.lock = threading.RLock()
        self.config = config
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                self.data = json.load(handle)
        else:
            self.data = seed.initial_state(config)
            self.save()

    def reset(self):
        with self.lock:
            self.data = seed.initial_state(self.config)
            self.save()

    def save(self):
        tmp = self.path + ".tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(self.data, out, indent=1, sort_keys=True)
        os.replace(tmp, self.path)

    def snapshot(self):
        with self.lock:
            return copy.deepcopy(self.data)
