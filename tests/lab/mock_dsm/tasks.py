"""Task Scheduler: SYNO.Core.TaskScheduler(.Root) scheduled tasks and SYNO.Core.EventScheduler(.Root)
boot-up / shutdown tasks, whose scripts really run (task_runner.py).

Wire shapes as N4S4/synology-api (task_scheduler.py, event_scheduler.py), batonogov's provider
(task_scheduler.go, event_scheduler.go) and ZenixSolutions/syno-letsencrypt (schedule.sh) send them:
scheduled tasks are addressed by `id` plus `real_owner`, event tasks by `task_name`; root-owned tasks
are written through the .Root API with a SynoConfirmPWToken (password_confirm.py). A run over the API
is asynchronous, as on DSM: the result appears in the history once the script ended. Sources and
confidence per method in docs/lab-fidelity.md.
"""

from __future__ import annotations

import datetime
import os
import tempfile
import threading

from tests.lab.mock_dsm import task_runner
from tests.lab.mock_dsm.api import Api
from tests.lab.mock_dsm.errors import ApiError
from tests.lab.mock_dsm.params import boolean, invalid, json_value, required, text

# DSM's answer to parameters its task library refuses (synoscgi logs "Invalid paramters" with 4800,
# N4S4's task_scheduler.py comment); the lab uses it for every refused task field.
INVALID = 4800
REPEAT_MINUTES = (0, 1, 5, 10, 15, 20, 30)  # the UI's choices (N4S4, batonogov)
HISTORY_KEPT = 20
EVENTS = ("bootup", "shutdown")


def initial_state():
    return {"scheduled": {}, "event": {}, "next_id": 1, "results": {},
            "output_config": {"enable_output": False, "output_path": "", "type": "esynoscheduler"}}


def apis(dsm):
    t = dsm.scheduler
    return {
        "SYNO.Core.TaskScheduler": Api("entry.cgi", 1, 4, {
            "list": (t.list, False), "get": (t.get, False), "create": (t.create, True), "set": (t.set, True),
            "delete": (t.delete, True), "run": (t.run, True), "set_enable": (t.set_enable, True),
            "get_history_status_list": (t.history, False), "get_history_log": (t.history_log, False)}),
        "SYNO.Core.TaskScheduler.Root": Api("entry.cgi", 1, 4, {
            "create": (t.root(t.create), True), "set": (t.root(t.set), True)}),
        "SYNO.Core.EventScheduler": Api("entry.cgi", 1, 1, {
            "list": (t.event_list, False), "get": (t.event_get, False), "create": (t.event_create, True),
            "set": (t.event_set, True), "delete": (t.event_delete, True), "run": (t.event_run, True),
            "set_enable": (t.event_set_enable, True), "result_list": (t.result_list, False),
            "result_get_file": (t.result_get_file, False), "config_get": (t.config_get, False),
            "config_set": (t.config_set, True)}),
        "SYNO.Core.EventScheduler.Root": Api("entry.cgi", 1, 1, {
            "create": (t.root(t.event_create), True), "set": (t.root(t.event_set), True)}),
    }


def _int(value, name):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(INVALID, {"name": name, "reason": "type"})


def _schedule(raw):
    """DSM's schedule object, checked; monthly_week is kept as a list whether it came as a list or as
    JSON text inside the JSON (N4S4 and syno-letsencrypt double-encode it, batonogov does not)."""
    schedule = json_value(raw, "schedule")
    if not isinstance(schedule, dict):
        raise ApiError(INVALID)
    weeks = schedule.get("monthly_week", [])
    if isinstance(weeks, str):
        weeks = json_value(weeks or "[]", "monthly_week")
    out = dict(schedule, monthly_week=weeks if isinstance(weeks, list) else [], version=4)
    date_type = _int(out.get("date_type", 0), "date_type")
    repeat_date = _int(out.get("repeat_date", 1001), "repeat_date")
    hour, minute = _int(out.get("hour", 0), "hour"), _int(out.get("minute", 0), "minute")
    repeat_hour = _int(out.get("repeat_hour", 0), "repeat_hour")
    repeat_min = _int(out.get("repeat_min", 0), "repeat_min")
    last = _int(out.get("last_work_hour", hour), "last_work_hour")
    days = str(out.get("week_day", "0,1,2,3,4,5,6")).split(",")
    if date_type not in (0, 1) or (date_type == 0 and repeat_date not in (1001, 1002, 1003)) or \
            (date_type == 1 and repeat_date not in (0, 1, 2, 3, 5)) or not 0 <= hour <= 23 or \
            not 0 <= minute <= 59 or not 0 <= repeat_hour <= 23 or repeat_min not in REPEAT_MINUTES or \
            not 0 <= last <= 23 or any(d.strip() not in "0123456" or not d.strip() for d in days):
        raise ApiError(INVALID)
    out.update(date_type=date_type, repeat_date=repeat_date, hour=hour, minute=minute, repeat_hour=repeat_hour,
               repeat_min=repeat_min, last_work_hour=last)
    return out


def _selection(request, name):
    """`tasks` / `status`: a JSON list of {id, real_owner(, enable)} (N4S4, batonogov)."""
    items = json_value(required(request, name), name)
    if not isinstance(items, list) or not all(isinstance(i, dict) and "id" in i for i in items):
        raise invalid(name)
    return items


class Scheduler:
    def __init__(self, dsm):
        self.dsm = dsm
        self.generation = 0  # bumped by a lab reset, so a run still going does not write into the new state
        self._sandbox = None

    @property
    def data(self):
        return self.dsm.state.data["tasks"]

    def reset(self):
        self.generation += 1

    def root(self, handler):
        """A .Root method: the session must have confirmed its password (password_confirm.py)."""
        def checked(request):
            self.dsm.confirm_tokens.check(request)
            request.via_root = True
            return handler(request)
        return checked

    def _owner_allowed(self, request, owner):
        if owner == "root" and not getattr(request, "via_root", False):
            raise ApiError(105)  # root-owned tasks only through the .Root API (lab's choice of code)
        if owner != "root" and owner not in self.dsm.state.data["users"]:
            raise ApiError(INVALID, {"name": "owner", "reason": "unknown user"})

    # -- the runner ------------------------------------------------------------------
    def sandbox(self):
        root = self.dsm.config.get("task_root")
        if root:
            return root
        if self._sandbox is None:
            base = os.path.dirname(self.dsm.state.path) if self.dsm.state.path else None
            self._sandbox = os.path.join(base, "task-root") if base else tempfile.mkdtemp(prefix="lab-task-root-")
        return self._sandbox

    def execute(self, key, script, owner, name, trigger, wait):
        """Run a script and record its result under `key`; in a thread unless `wait`."""
        generation, root = self.generation, self.sandbox()
        timeout = self.dsm.config.get("task_timeout") or task_runner.DEFAULT_TIMEOUT

        def work():
            outcome = task_runner.run_script(script, root, owner, name, timeout)
            with self.dsm.state.lock:
                if generation != self.generation:
                    return
                results = self.data["results"].setdefault(key, [])
                result_id = max([r["result_id"] for r in results] + [self.data.get("last_result_id", 0)]) + 1
                self.data["last_result_id"] = result_id
                results.insert(0, dict(outcome, result_id=result_id, trigger=trigger, owner=owner, script=script,
                                       name=name))
                del results[HISTORY_KEPT:]
                self.dsm.state.save()
        if wait:
            work()
        else:
            threading.Thread(target=work, daemon=True).start()

    def boot(self, event):
        """A lab boot-up (or shutdown): every enabled task of that event, those it depends on first."""
        with self.dsm.state.lock:
            tasks = {n: dict(t) for n, t in self.data["event"].items() if t["event"] == event and t["enable"]}
        done = []

        def visit(name, path=()):
            if name in done or name not in tasks or name in path:
                return
            for dep in _depends(tasks[name]["depend_on_task"]):
                visit(dep, path + (name,))
            done.append(name)
            task = tasks[name]
            self.execute("event:" + name, task["operation"], _owner_name(task["owner"]), name, event, wait=True)
        for name in sorted(tasks):
            visit(name)
        return done

    def tick(self, moment=None):
        """Every enabled scheduled task once (or, given "YYYY-MM-DD HH:MM", those due in that minute)."""
        when = datetime.datetime.strptime(moment, "%Y-%m-%d %H:%M") if isinstance(moment, str) else None
        with self.dsm.state.lock:
            due = [dict(t) for t in self.data["scheduled"].values()
                   if t["enable"] and (when is None or task_runner.is_due(t["schedule"], when))]
        for task in sorted(due, key=lambda t: t["id"]):
            self.execute("scheduled:%d" % task["id"], task["extra"].get("script", ""), task["owner"], task["name"],
                         "schedule", wait=True)
        return [t["id"] for t in due]

    # -- SYNO.Core.TaskScheduler ---------------------------------------------------------
    def _summary(self, task):
        return {"action": "Run: %s" % task["extra"].get("script", ""), "can_delete": True, "can_edit": True,
                "can_run": True, "enable": task["enable"], "id": task["id"], "name": task["name"],
                "next_trigger_time": task_runner.next_trigger(task["schedule"]) if task["enable"] else "",
                "owner": task["owner"], "real_owner": task["real_owner"], "type": task["type"]}

    def list(self, request):
        """Scheduled tasks, then event tasks without an id (batonogov: event tasks are listed too,
        told apart only by the missing id)."""
        tasks = [self._summary(t) for t in sorted(self.data["scheduled"].values(), key=lambda t: t["id"])]
        for name, task in sorted(self.data["event"].items()):
            owner = _owner_name(task["owner"])
            tasks.append({"action": "Run: %s" % task["operation"], "can_delete": True, "can_edit": True,
                          "can_run": True, "enable": task["enable"], "name": name, "next_trigger_time": "",
                          "owner": owner, "real_owner": owner, "type": "script"})
        return {"tasks": tasks, "total": len(tasks)}

    def _task(self, request, item=None):
        """The task named by id + real_owner; None when either does not match (DSM then answers an
        empty task, batonogov)."""
        item = item or {"id": required(request, "id"), "real_owner": request.param("real_owner")}
        task = self.data["scheduled"].get(str(text(item.get("id"))))
        if task is None or text(item.get("real_owner")) != task["real_owner"]:
            return None
        return task

    def get(self, request):
        task = self._task(request)
        if task is None:
            return {}
        out = self._summary(task)
        out.update(can_edit_name=True, can_edit_owner=True, extra=dict(task["extra"]),
                   schedule=dict(task["schedule"], repeat_min_store_config=list(REPEAT_MINUTES[1:]),
                                 repeat_hour_store_config=list(range(1, 24))))
        for key in ("can_delete", "can_edit", "can_run", "next_trigger_time"):
            out.pop(key)
        return out

    def _fields(self, request):
        name = text(required(request, "name"), "name")
        owner = text(required(request, "owner"), "owner")
        self._owner_allowed(request, owner)
        task_type = text(request.param("type", "script"))
        if task_type != "script" or not isinstance(name, str) or not name.strip():
            raise ApiError(INVALID)  # the lab serves user-defined scripts only
        extra = json_value(required(request, "extra"), "extra")
        if not isinstance(extra, dict) or not isinstance(extra.get("script"), str):
            raise ApiError(INVALID)
        extra = {"notify_enable": boolean(extra.get("notify_enable", False)),
                 "notify_if_error": boolean(extra.get("notify_if_error", False)),
                 "notify_mail": str(extra.get("notify_mail", "")), "script": extra["script"]}
        return {"name": name, "owner": owner, "real_owner": text(request.param("real_owner") or owner),
                "enable": boolean(json_value(request.param("enable", "true"), "enable")), "type": task_type,
                "extra": extra, "schedule": _schedule(required(request, "schedule"))}

    def create(self, request):
        task = self._fields(request)
        task["id"] = self.data["next_id"]
        self.data["next_id"] += 1
        self.data["scheduled"][str(task["id"])] = task
        self.dsm.state.save()
        return {"id": task["id"]}

    def set(self, request):
        """set replaces every field (batonogov); the task is named by id + real_owner."""
        task = self._task(request)
        if task is None:
            raise ApiError(INVALID)
        fields = self._fields(request)
        fields["real_owner"] = fields["owner"]
        task.update(fields)
        self.dsm.state.save()
        return {}

    def _selected(self, request, name):
        tasks = []
        for item in _selection(request, name):
            task = self._task(request, item)
            if task is None:
                raise ApiError(INVALID)
            tasks.append((task, item))
        return tasks

    def delete(self, request):
        for task, _item in self._selected(request, "tasks"):
            del self.data["scheduled"][str(task["id"])]
            self.data["results"].pop("scheduled:%d" % task["id"], None)
        self.dsm.state.save()
        return {}

    def run(self, request):
        for task, _item in self._selected(request, "tasks"):
            self.execute("scheduled:%d" % task["id"], task["extra"]["script"], task["owner"], task["name"],
                         "on_demand", wait=False)
        return {}

    def set_enable(self, request):
        for task, item in self._selected(request, "status"):
            task["enable"] = boolean(item.get("enable", True))
        self.dsm.state.save()
        return {}

    def history(self, request):
        """[{exit_code, exit_type, start_time, stop_time, timestamp}], newest first (N4S4's sample)."""
        key = "scheduled:%s" % text(required(request, "id"))
        return [{"exit_code": r["exit_code"], "exit_type": r["exit_type"], "start_time": task_runner.clock(r["start"]),
                 "stop_time": task_runner.clock(r["stop"]), "timestamp": str(int(r["start"]))}
                for r in self.data["results"].get(key, [])]

    def history_log(self, request):
        """One run's input and output, found by id + timestamp (shape inferred from result_get_file)."""
        key = "scheduled:%s" % text(required(request, "id"))
        stamp = str(text(required(request, "timestamp")))
        for r in self.data["results"].get(key, []):
            if str(int(r["start"])) == stamp:
                return {"script_in": r["script"], "script_out": r["output"]}
        raise ApiError(INVALID)

    # -- SYNO.Core.EventScheduler ------------------------------------------------------------
    def _event_fields(self, request):
        name = text(required(request, "task_name"), "task_name")
        owner = json_value(required(request, "owner"), "owner")
        event = text(required(request, "event"), "event")
        operation = text(required(request, "operation"), "operation")
        if not isinstance(owner, dict) or len(owner) != 1 or event not in EVENTS or \
                not isinstance(operation, str) or not isinstance(name, str) or not name.strip() or \
                text(request.param("operation_type", "script")) != "script":
            raise ApiError(INVALID)
        (uid, owner_name), = owner.items()
        self._owner_allowed(request, owner_name)
        users = self.dsm.state.data["users"]
        if str(uid) != str(users[owner_name]["uid"] if owner_name != "root" else 0):
            raise ApiError(INVALID, {"name": "owner", "reason": "uid"})
        return {"task_name": name, "owner": {str(uid): owner_name}, "event": event,
                "depend_on_task": text(request.param("depend_on_task", "")) or "",
                "enable": boolean(json_value(request.param("enable", "true"), "enable")),
                "notify_enable": boolean(json_value(request.param("notify_enable", "false"), "notify_enable")),
                "notify_mail": text(request.param("notify_mail", "")) or "",
                "notify_if_error": boolean(json_value(request.param("notify_if_error", "false"), "notify_if_error")),
                "operation": operation, "operation_type": "script"}

    def event_list(self, request):
        return [dict(t) for _n, t in sorted(self.data["event"].items())]

    def event_get(self, request):
        """An unknown name answers an empty payload, not an error (batonogov)."""
        return dict(self.data["event"].get(text(required(request, "task_name")), {}))

    def event_create(self, request):
        task = self._event_fields(request)
        if task["task_name"] in self.data["event"]:
            raise ApiError(INVALID)  # names are the key (lab's choice of code)
        self.data["event"][task["task_name"]] = task
        self.dsm.state.save()
        return {}

    def event_set(self, request):
        task = self._event_fields(request)
        if task["task_name"] not in self.data["event"]:
            raise ApiError(INVALID)
        self.data["event"][task["task_name"]] = task
        self.dsm.state.save()
        return {}

    def _event(self, request):
        task = self.data["event"].get(text(required(request, "task_name")))
        if task is None:
            raise ApiError(INVALID)
        return task

    def event_delete(self, request):
        task = self._event(request)
        del self.data["event"][task["task_name"]]
        self.data["results"].pop("event:" + task["task_name"], None)
        self.dsm.state.save()
        return {}

    def event_run(self, request):
        task = self._event(request)
        self.execute("event:" + task["task_name"], task["operation"], _owner_name(task["owner"]), task["task_name"],
                     "on_demand", wait=False)
        return {}

    def event_set_enable(self, request):
        task = self._event(request)
        task["enable"] = boolean(json_value(required(request, "enable"), "enable"))
        self.dsm.state.save()
        return {}

    def result_list(self, request):
        """N4S4's sample: event_fire_time, exit_info{exit_code, exit_type}, pid, result_id, ..."""
        name = text(required(request, "task_name"))
        return [{"event_fire_time": task_runner.clock(r["start"]),
                 "exit_info": {"exit_code": r["exit_code"], "exit_type": "stop" if r["exit_type"] == "normal"
                               else r["exit_type"]},
                 "extra": {}, "pid": 0, "result_id": r["result_id"], "run_time_env": {},
                 "start_time": task_runner.clock(r["start"]), "stop_time": task_runner.clock(r["stop"]),
                 "task_name": name, "trigger_event": r["trigger"]}
                for r in self.data["results"].get("event:" + name, [])]

    def result_get_file(self, request):
        name = text(required(request, "task_name"))
        wanted = _int(text(required(request, "result_id")), "result_id")
        for r in self.data["results"].get("event:" + name, []):
            if r["result_id"] == wanted:
                return {"script_in": r["script"], "script_out": r["output"]}
        raise ApiError(INVALID)

    def config_get(self, request):
        return dict(self.data["output_config"])

    def config_set(self, request):
        config = self.data["output_config"]
        if request.param("enable_output") is not None:
            config["enable_output"] = boolean(json_value(request.param("enable_output"), "enable_output"))
        if request.param("output_path") is not None:
            config["output_path"] = text(request.param("output_path"))
        self.dsm.state.save()
        return {}


def _owner_name(owner):
    return next(iter(owner.values()))


def _depends(value):
    """DSM's "[A][B]" list of the tasks to run first."""
    return [part.strip("]").strip() for part in (value or "").split("[") if part.strip("]").strip()]
