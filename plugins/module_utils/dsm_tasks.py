# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""DSM Task Scheduler over the Web API: every SYNO name and wire shape of homelab.nas.dsm_task.

Scheduled tasks are SYNO.Core.TaskScheduler (addressed by id + real_owner), boot-up and shutdown tasks
SYNO.Core.EventScheduler (addressed by task_name). Root-owned tasks are written through the .Root API
with a SynoConfirmPWToken from SYNO.Core.User.PasswordConfirm, the password re-check DSM's UI asks
for. Shapes as N4S4/synology-api and batonogov/terraform-provider-synology-dsm send them.
"""

from __future__ import annotations

import json
import time

from ansible_collections.homelab.nas.plugins.module_utils import dsm_validate
from ansible_collections.homelab.nas.plugins.module_utils.dsm_errors import DsmError
from ansible_collections.homelab.nas.plugins.module_utils.keyed_cache import KeyedCache

TASK_API = "SYNO.Core.TaskScheduler"
TASK_ROOT_API = "SYNO.Core.TaskScheduler.Root"
EVENT_API = "SYNO.Core.EventScheduler"
EVENT_ROOT_API = "SYNO.Core.EventScheduler.Root"
CONFIRM_API = "SYNO.Core.User.PasswordConfirm"
USER_API = "SYNO.Core.User"
USER_NOT_FOUND = 3106  # SYNO.Core.User get's answer for a name no account has (batonogov; N4S4's error table)
# The task API is versioned per method: list 3, get/create/set 4, delete/run/set_enable 2, history 1.
LIST_V, CONFIG_V, ACTION_V, HISTORY_V = 3, 4, 2, 1
EVENTS = {"boot": "bootup", "shutdown": "shutdown"}
DAYS = list(dsm_validate.DAYS)  # DSM's week_day digits: 0 is Sunday
REPEAT_MINUTES = (1, 5, 10, 15, 20, 30)  # what DSM's UI offers for "repeat every N minutes"
DAILY, WEEKLY = 1001, 1002


def schedule_to_dsm(schedule):
    """The module's schedule (frequency, days, time, every_minutes, every_hours, until) as DSM's object."""
    hour, minute = (int(part) for part in schedule["time"].split(":"))
    repeating = bool(schedule.get("every_minutes") or schedule.get("every_hours"))
    until = schedule.get("until")
    days = list(range(7)) if schedule["frequency"] == "daily" else sorted({DAYS.index(d) for d in schedule["days"]})
    return {
        "date_type": 0,
        "repeat_date": DAILY if schedule["frequency"] == "daily" else WEEKLY,
        "week_day": ",".join(str(d) for d in days),
        "monthly_week": [],
        "hour": hour,
        "minute": minute,
        "repeat_hour": schedule.get("every_hours") or 0,
        "repeat_min": schedule.get("every_minutes") or 0,
        # DSM keeps the last hour a repeat may fire; without a repeat it is the start hour (batonogov).
        "last_work_hour": int(until) if until is not None else (23 if repeating else hour),
        "version": 4,
    }


def schedule_from_dsm(stored):
    """DSM's stored schedule in the module's vocabulary (None for kinds the module does not manage)."""
    if not stored:
        return None
    kind = {DAILY: "daily", WEEKLY: "weekly"}.get(int(stored.get("repeat_date", 0)))
    if int(stored.get("date_type", 0)) != 0 or kind is None:
        return {"dsm": stored}
    days = [DAYS[int(d)] for d in str(stored.get("week_day", "")).split(",") if d.strip().isdigit() and int(d) < 7]
    if kind == "daily":
        days = []
    return {
        "frequency": kind,
        "days": days,
        "time": "%02d:%02d" % (int(stored.get("hour", 0)), int(stored.get("minute", 0))),
        "every_minutes": int(stored.get("repeat_min", 0)) or None,
        "every_hours": int(stored.get("repeat_hour", 0)) or None,
        "until": int(stored.get("last_work_hour", stored.get("hour", 0))),
    }


class TaskIds:
    """The id and real_owner of scheduled tasks by DSM URL, owner and name (no secret), in the DSM modules' cache
    directory, so a task is read in one request. A hint only: every use checks it against DSM's list."""

    def __init__(self, client):
        self._cache = KeyedCache(client.cache_dir, ".task.json")
        self._prefix = "task|%s|" % client.base_url

    def _key(self, name, owner):
        return "%s%s|%s" % (self._prefix, owner, name)

    def get(self, name, owner):
        entry = self._cache.get(self._key(name, owner))
        if isinstance(entry, dict) and entry.get("id") is not None and isinstance(entry.get("real_owner"), str):
            return {"id": entry["id"], "real_owner": entry["real_owner"]}
        return None

    def put(self, name, owner, entry):
        """entry: {id, real_owner}, or None to forget the task."""
        self._cache.put(self._key(name, owner), entry)


def _same_task(got, known, match):
    """Whether the get made with the remembered id answered the listed task: the list names that id, and the
    get a task of that name and owner (DSM answers an id it does not know with an empty task)."""
    return (
        bool(got)
        and str(match["id"]) == str(known["id"])
        and str(got.get("id", match["id"])) == str(match["id"])
        and got.get("name") == match.get("name")
        and got.get("owner") == match.get("owner")
    )


class TaskStore:
    """Reads and writes one kind of task (`trigger` boot, shutdown or schedule) through a DsmClient."""

    def __init__(self, client, password, ids=None):
        self.client = client
        self._password = password
        self.ids = ids  # TaskIds: the ids of scheduled tasks found before, or None

    # -- reading ---------------------------------------------------------------------------------
    def find(self, trigger, name, owner=None):
        """The task as {name, trigger, owner, enabled, script, schedule} plus private keys, or None."""
        if trigger in EVENTS:
            got = self.client.read(EVENT_API, "get", 1, task_name=json.dumps(name))
            if not got or (got.get("task_name") or got.get("name")) != name:
                return None  # DSM answers an unknown name with an empty payload
            owners = got.get("owner") or {}
            task_owner = next(iter(owners.values())) if isinstance(owners, dict) and owners else str(owners)
            return {
                "name": name,
                "trigger": {v: k for k, v in EVENTS.items()}.get(got.get("event"), got.get("event")),
                "owner": task_owner,
                "enabled": bool(got.get("enable")),
                "script": got.get("operation", ""),
                "_raw": got,
            }
        return self._find_scheduled(name, owner)

    def _find_scheduled(self, name, owner):
        """Task Scheduler lists tasks without their schedule or script, so a task is its list entry (found by
        name and owner, unique) and its get. With the id remembered (TaskIds), both travel in one compound request;
        a get that answered nothing, an error or another task (a stale id) is made again for the listed one."""
        list_call = (TASK_API, "list", LIST_V, dict(sort_by="name", sort_direction="ASC", offset=0, limit=-1))
        known = self.ids.get(name, owner) if self.ids and owner else None
        got = listed = None
        if known:
            get_call = (TASK_API, "get", CONFIG_V, dict(id=known["id"], real_owner=known["real_owner"]))
            (listed, list_error), (got, get_error) = self.client.batch_results([list_call, get_call])
            got = got if get_error is None else None
            if list_error is not None:
                # Not answered inside the compound request: the list alone (which raises a real refusal again).
                known = got = None
        if not known:
            listed = self.client.read(*list_call[:3], **list_call[3])
        listed = listed.get("tasks") or []
        # Event tasks are listed too, without an id; names are not unique in DSM.
        matches = [t for t in listed if t.get("id") and t.get("name") == name and owner in (None, t.get("owner"))]
        if not matches:
            if known:
                self.ids.put(name, owner, None)
            return None
        if len(matches) > 1:
            raise DsmError(
                "name: DSM has %d scheduled tasks named '%s' (ids %s); rename or delete the extra ones in "
                "Control Panel > Task Scheduler" % (len(matches), name, ", ".join(str(t["id"]) for t in matches))
            )
        match = matches[0]
        if not (known and _same_task(got, known, match)):
            got = self.client.read(TASK_API, "get", CONFIG_V, id=match["id"], real_owner=match.get("real_owner"))
        if not got:
            return None
        extra = got.get("extra") or {}
        real_owner = got.get("real_owner") or match.get("real_owner")
        if self.ids and owner and known != {"id": match["id"], "real_owner": real_owner}:
            self.ids.put(name, owner, {"id": match["id"], "real_owner": real_owner})
        return {
            "name": name,
            "trigger": "schedule",
            "owner": got.get("owner"),
            "enabled": bool(got.get("enable")),
            "script": extra.get("script", ""),
            "schedule": schedule_from_dsm(got.get("schedule")),
            "id": match["id"],
            "_real_owner": real_owner,
            "_extra": extra,
        }

    # -- writing ----------------------------------------------------------------------------------
    def _confirm(self, params):
        """A root-owned write: the password re-check, whose token travels with the write."""
        token = self.client.write(CONFIRM_API, "auth", 2, password=self._password).get("SynoConfirmPWToken")
        if not token:
            raise DsmError("%s.auth answered no SynoConfirmPWToken" % CONFIRM_API, api=CONFIRM_API, method="auth")
        params["SynoConfirmPWToken"] = token

    def _uid(self, owner):
        if owner == "root":
            return "0"
        try:
            users = self.client.read(USER_API, "get", 1, name=owner).get("users") or []
        except DsmError as exc:
            if exc.code != USER_NOT_FOUND:
                raise
            users = []
        if not users:
            raise DsmError("owner: no DSM account '%s'" % owner)
        return str(users[0]["uid"])

    def save(self, want, existing):
        """Create the task, or replace every field of `existing` (DSM's set replaces the whole task)."""
        method = "set" if existing else "create"
        if want["trigger"] in EVENTS:
            raw = (existing or {}).get("_raw") or {}
            params = {
                "task_name": json.dumps(want["name"]),
                "owner": {self._uid(want["owner"]): want["owner"]},
                "event": json.dumps(EVENTS[want["trigger"]]),
                "depend_on_task": json.dumps(raw.get("depend_on_task") or ""),
                "enable": want["enabled"],
                "notify_enable": bool(raw.get("notify_enable")),
                "notify_mail": json.dumps(raw.get("notify_mail") or ""),
                "notify_if_error": bool(raw.get("notify_if_error")),
                "operation": json.dumps(want["script"]),
                "operation_type": json.dumps("script"),
            }
            api = EVENT_API
            if want["owner"] == "root":
                self._confirm(params)
                api = EVENT_ROOT_API
            self.client.write(api, method, 1, **params)
            return
        old_extra = (existing or {}).get("_extra") or {}
        extra = {
            "notify_enable": bool(old_extra.get("notify_enable")),
            "notify_mail": old_extra.get("notify_mail", ""),
            "notify_if_error": bool(old_extra.get("notify_if_error")),
            "script": want["script"],
        }
        params = {
            "name": want["name"],
            "owner": want["owner"],
            "enable": want["enabled"],
            "type": "script",
            "schedule": schedule_to_dsm(want["schedule"]),
            "extra": extra,
            "real_owner": existing["_real_owner"] if existing else want["owner"],
        }
        if existing:
            params["id"] = existing["id"]
        api = TASK_API
        if want["owner"] == "root":
            self._confirm(params)
            api = TASK_ROOT_API
        created = self.client.write(api, method, CONFIG_V, **params)
        return created.get("id") if not existing else existing["id"]

    def delete(self, existing):
        if existing["trigger"] in EVENTS:
            self.client.write(EVENT_API, "delete", 1, task_name=json.dumps(existing["name"]))
        else:
            self.client.write(
                TASK_API, "delete", ACTION_V, tasks=[{"id": existing["id"], "real_owner": existing["_real_owner"]}]
            )
            if self.ids:
                self.ids.put(existing["name"], existing["owner"], None)

    # -- running ----------------------------------------------------------------------------------
    def _history(self, task):
        if task["trigger"] in EVENTS:
            data = self.client.read(EVENT_API, "result_list", 1, task_name=json.dumps(task["name"]))
        else:
            data = self.client.read(TASK_API, "get_history_status_list", HISTORY_V, id=task["id"])
        return data if isinstance(data, list) else []  # an empty list comes back as {}

    def _output(self, task, entry):
        if task["trigger"] in EVENTS:
            got = self.client.read(
                EVENT_API, "result_get_file", 1, task_name=json.dumps(task["name"]), result_id=entry["result_id"]
            )
        else:
            got = self.client.read(TASK_API, "get_history_log", HISTORY_V, id=task["id"], timestamp=entry["timestamp"])
        return got.get("script_out")

    def run(self, task, timeout, poll=1.0):
        """Run the task now and wait for its result -> {exit_code, exit_type, output, warning}."""
        before = self._history(task)
        if task["trigger"] in EVENTS:
            self.client.write(EVENT_API, "run", 1, task_name=json.dumps(task["name"]))
        else:
            self.client.write(TASK_API, "run", ACTION_V, tasks=[{"id": task["id"], "real_owner": task["_real_owner"]}])
        deadline = time.monotonic() + timeout
        # A short script's result is there within a fraction of a second: look soon, then back off to `poll`.
        delay = min(poll, 0.1)
        while True:
            fresh = _new_entries(before, self._history(task))
            if fresh:
                break
            if time.monotonic() > deadline:
                raise DsmError(
                    "run: task '%s' gave no result within %s seconds (it may still be running; see "
                    "Control Panel > Task Scheduler > Action > View result)" % (task["name"], timeout)
                )
            time.sleep(delay)
            delay = min(delay * 2, poll)
        entry = fresh[0]
        info = entry.get("exit_info") or entry
        result = {
            "exit_code": int(info.get("exit_code", -1)),
            "exit_type": info.get("exit_type"),
            "output": None,
            "warning": None,
        }
        try:
            result["output"] = self._output(task, entry)
        except DsmError as exc:  # the exit code is what counts; DSM keeps output only when asked to
            result["warning"] = "the task's output could not be read: %s" % exc
        return result


def _new_entries(before, after):
    """The history entries of `after` that `before` lacks, counted as a multiset: DSM stamps a scheduled
    task's runs to the second, so two runs within one second with the same exit look alike, and only the
    number of alike entries tells the new one apart."""
    left = list(before)
    fresh = []
    for entry in after:
        if entry in left:
            left.remove(entry)
        else:
            fresh.append(entry)
    return fresh
