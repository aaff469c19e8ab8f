"""SYNO.Core.System.Utilization get: the load figures Home Assistant's integration polls.

Listed in GS api_info.json (entry.cgi, v1); called as `get` v1 by py-synologydsm-api (HA #54238 log on
DSM 7.0). Administrators only: non-admin HA accounts get 105 (home-assistant/core#103627, #176930).
Shape: the DSM 6 capture in py-synologydsm-api's tests (tests/api_data/dsm_6/core/
const_6_core_utilization.py): cpu loads in percent, memory in KiB, network bytes/s per device with a
"total" entry, disk/space I/O, lun, and the sample's unix time. The numbers are the lab's own, steady
so tests can compare; memory follows SYNO.DSM.Info's `ram` (MiB).
"""

from __future__ import annotations

import time

from tests.lab.mock_dsm.api import Api


def apis(dsm):
    state = dsm.state

    def get(request):
        memory_kib = state.data["dsm_info"]["ram"] * 1024
        io = {"read_access": 0, "read_byte": 0, "utilization": 0, "write_access": 0, "write_byte": 0}
        return {
            "cpu": {"15min_load": 12, "1min_load": 9, "5min_load": 10, "device": "System", "other_load": 1,
                    "system_load": 2, "user_load": 3},
            "memory": {"avail_real": memory_kib // 2, "avail_swap": 2097152, "buffer": 16384,
                       "cached": memory_kib // 4, "device": "Memory", "memory_size": memory_kib,
                       "real_usage": 25, "si_disk": 0, "so_disk": 0, "swap_usage": 0,
                       "total_real": memory_kib - 65536, "total_swap": 2097152},
            "network": [{"device": "total", "rx": 2048, "tx": 1024}, {"device": "eth0", "rx": 2048, "tx": 1024}],
            "disk": {"disk": [], "total": dict(io, device="total")},
            "space": {"total": dict(io, device="total"), "volume": []},
            "lun": [],
            "time": int(time.time()),
        }

    return {"SYNO.Core.System.Utilization": Api("entry.cgi", 1, 1, {"get": (get, False)})}
