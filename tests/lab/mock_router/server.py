"""Start the mock router (UPnP IGD over HTTP) on loopback."""

from __future__ import annotations

import os

from tests.lab.common.http import Lab
from tests.lab.mock_router.igd import MockIgd


def start(directory, host="127.0.0.1", port=0):
    os.makedirs(directory, exist_ok=True)
    app = MockIgd(os.path.join(directory, "state.json"))
    lab = Lab(app, directory)
    bound = lab.listen(host, port)
    return lab, {
        "host": host,
        "port": bound,
        "igd_url": "http://%s:%d/rootDesc.xml" % (host, bound),
        "log_path": lab.log.path,
    }
