"""Schema fuzzing of every operation of the contract (issue 15), with hypothesis.

For each operation of tests/contracts/taskrouter_v1.json, requests are generated from
the operation's own parameters (the contract's "request METHOD path" schemas): valid
values, values of the scene (existing SIDs, SIDs of another kind or workspace), and
junk (wrong types, huge strings, unicode, empty, unknown names, bad SIDs), sent with
raw HTTP like the SDK (Basic auth, form-encoded POSTs, query strings on GETs).

Every answer must be: below 500, within the timeout, a Twilio-shaped error when a
refusal, valid against the contract when a 2xx; and a refused POST or DELETE leaves
the workspaces' rows, in memory and in SQLite, as they were.

Bounded by default (a fixed derandomized run for `make test`); FUZZ_EXAMPLES=N runs N
examples per operation with fresh randomness (`make fuzz`), FUZZ_SEED=S makes such a
run repeatable.
"""

import json
import os
import re
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st
from number_edges import DATE_EDGES, DOCUMENTED, integer_values, outside
from taskrouter_support import snapshot
from test_wire import ERROR_KEYS, Schema

from tutorial_helpers.local_twilio import LocalTaskRouter

ROOT = Path(__file__).resolve().parents[3]
CONTRACT = json.loads((ROOT / "tests" / "contracts" / "taskrouter_v1.json").read_text())
TIMEOUT = 5.0  # seconds per request: longer is a hang

LONG_RUN = "FUZZ_EXAMPLES" in os.environ
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "10"))
STATISTICS_EXAMPLES = max(3, EXAMPLES // 5)  # read-only: fewer examples (test_statistics.py has the figures)

# Which parameters an operation needs to succeed; the contract keeps types, not requiredness.
REQUIRED = {
    ("POST", "/v1/Workspaces"): ("FriendlyName",),
    ("POST", "/v1/Workspaces/{WorkspaceSid}/Activities"): ("FriendlyName",),
    ("POST", "/v1/Workspaces/{WorkspaceSid}/TaskChannels"): ("FriendlyName", "UniqueName"),
    ("POST", "/v1/Workspaces/{WorkspaceSid}/TaskQueues"): ("FriendlyName",),
    ("POST", "/v1/Workspaces/{WorkspaceSid}/Workers"): ("FriendlyName",),
    ("POST", "/v1/Workspaces/{WorkspaceSid}/Workflows"): ("FriendlyName", "Configuration"),
}
# The resource a path segment names, by the SID prefix of its kind.
SEGMENT_KIND = {
    "Workspaces": "WS", "Activities": "WA", "TaskChannels": "TC", "Workers": "WK", "TaskQueues": "WQ",
    "Workflows": "WW", "Tasks": "WT", "Reservations": "WR", "Channels": "WC", "Events": "EV",
}
PLACEHOLDER_KIND = {"WorkspaceSid": "WS", "WorkerSid": "WK", "TaskSid": "WT", "TaskQueueSid": "WQ",
                    "WorkflowSid": "WW"}
UNREACHABLE = "http://127.0.0.1:9"  # refused at once: callbacks fail fast and never leave the machine

OUTCOMES: Counter = Counter()  # (method, status class) -> answers; printed after a run with -s

OPERATIONS = sorted(
    (method.upper(), template)
    for template, item in CONTRACT["paths"].items()
    for method in item
    if method in ("get", "post", "delete")
)


# ---------------------------------------------------------------------------- the scene


class Scene:
    """A workspace with real children, built with the SDK, and the SIDs the fuzzer aims at."""

    def __init__(self, router: LocalTaskRouter):
        self.router = router
        self.sids: dict[str, list[str]] = {}
        self.main = self.build(router.client(), "Fuzz")
        self.other = self.build(router.client(), "Fuzz other")

    def build(self, client, name: str) -> dict[str, str]:
        tr = client.taskrouter.v1
        ws = tr.workspaces.create(friendly_name=f"{name} {time.monotonic_ns()}", multi_task_enabled=False)
        ctx = tr.workspaces(ws.sid)
        acts = {a.friendly_name: a for a in ctx.activities.list()}
        busy = ctx.activities.create(friendly_name="Busy", available=False)
        queue = ctx.task_queues.create(friendly_name="Everyone", target_workers="1==1",
                                       assignment_activity_sid=busy.sid)
        config = json.dumps({"task_routing": {"filters": [], "default_filter": {"queue": queue.sid}}})
        workflow = ctx.workflows.create(friendly_name="Default", configuration=config, task_reservation_timeout=3600)
        ann = ctx.workers.create(friendly_name="Ann", attributes=json.dumps({"languages": ["en"]}),
                                 activity_sid=acts["Available"].sid)
        ctx.workers.create(friendly_name="Ben")
        task = ctx.tasks.create(attributes=json.dumps({"language": "en"}), workflow_sid=workflow.sid)
        reservation = ctx.tasks(task.sid).reservations.list()[0]
        channel = ctx.workers(ann.sid).worker_channels.list()[0]
        event = ctx.events.list(limit=1)[0]
        made = {"WS": ws.sid, "WA": busy.sid, "WQ": queue.sid, "WW": workflow.sid, "WK": ann.sid, "WT": task.sid,
                "WR": reservation.sid, "WC": channel.sid, "EV": event.sid, "TC": channel.task_channel_sid,
                "config": config}
        for kind in ("WS", "WA", "WQ", "WW", "WK", "WT", "WR", "WC", "EV", "TC"):
            self.sids.setdefault(kind, []).append(made[kind])
        self.sids["WA"] += [a.sid for a in acts.values()]
        return made

    def state(self) -> tuple:
        """Both workspaces' rows in memory and in SQLite, once every callback sent so far is done."""
        self.router.wait_for_callbacks(TIMEOUT)
        return snapshot(self.router, self.main["WS"]), snapshot(self.router, self.other["WS"])


@pytest.fixture(scope="module")
def router(tmp_path_factory):
    with LocalTaskRouter(data_dir=tmp_path_factory.mktemp("fuzz")) as tr, pytest.MonkeyPatch.context() as mp:
        # A still clock: no TTL or reservation timeout a fuzzed value set fires between two snapshots.
        frozen = tr.clock.now()
        mp.setattr(tr.clock, "now", lambda: frozen)
        yield tr
    print(f"\nschema fuzz answers: {dict(sorted(OUTCOMES.items()))}")


@pytest.fixture(scope="module")
def scene(router) -> Scene:
    return Scene(router)


@pytest.fixture(scope="module")
def session(router):
    s = requests.Session()
    s.auth = (router.account_sid, router.auth_token)
    yield s
    s.close()


@pytest.fixture(scope="module")
def schema(router) -> Schema:
    return Schema(CONTRACT, router.base_url)


# ---------------------------------------------------------------------------- strategies


TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)  # no lone surrogates: not encodable
JUNK = st.one_of(
    TEXT,
    st.sampled_from([
        "", " ", "null", "None", "-1", "0", "1e400", "9" * 40, "-" + "9" * 40, "NaN", "true", "{}", "[]", "{",
        "\x00", "a\x00b", "💥" * 10, "\u202e", "WS" + "0" * 32, "XX" + "f" * 32, "%", "%00", "../..", "*",
        "1==1", "http://exa mple.com/", "javascript:alert(1)", "file:///etc/passwd", "2020-13-45T99:99:99Z",
        '{"a": ' * 50, "\r\n", "' OR 1=1 --",
    ]),
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from([5_000, 70_000]).map(lambda n: "x" * n),  # over every length limit; still under 1 MB
)
BOOLEAN = st.sampled_from(["true", "false", "True", "FALSE", "1", "0"])
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers(-1000, 1000) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=8,
)
ATTRIBUTES = st.dictionaries(st.sampled_from(["language", "languages", "skill", "n", "x"]), JSON_VALUE,
                             max_size=3).map(json.dumps)
EXPRESSIONS = st.sampled_from(["1==1", "1==2", 'language == "en"', 'languages HAS "en"', "skill IN ['x', 'y']",
                               "n > 3 AND n < 10", "NOT (x == 1)", "task.language == worker.language"])
PAST = st.datetimes(datetime(1990, 1, 1), datetime(2024, 1, 1), timezones=st.just(UTC))
FUTURE = st.builds(lambda d: datetime.now(UTC) + timedelta(days=d), st.integers(1, 3650))
DATES = st.one_of(
    PAST.map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")),  # as the SDK sends a datetime
    PAST.map(lambda d: d.isoformat()),
    FUTURE.map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")),
    PAST.map(lambda d: d.strftime("%Y-%m-%d")),
    st.sampled_from(DATE_EDGES),  # datetime's ends (issue 22)
)
URLS = st.sampled_from([f"{UNREACHABLE}/callback", f"{UNREACHABLE}/events?x=1", "", "ftp://example.com/",
                        "http://exa mple.com/", "not a url"])
INSTRUCTIONS = st.sampled_from(["accept", "reject", "dequeue", "call", "redirect", "conference", "Accept", "bogus"])


def named(name: str, scene: Scene):
    """Realistic values for the parameters whose meaning the contract's types do not say."""
    queue = scene.main["WQ"]
    if name == "Configuration":
        configs = [
            scene.main["config"],
            json.dumps({"task_routing": {"filters": [{"filter_friendly_name": "x", "expression": "1==1",
                                                      "targets": [{"queue": queue, "timeout": 30}]}],
                                         "default_filter": {"queue": queue}}}),
            json.dumps({"task_routing": {"default_filter": {"queue": scene.other["WQ"]}}}),  # another workspace's
        ]
        return st.sampled_from(configs) | st.builds(
            lambda e: json.dumps({"task_routing": {"filters": [{"expression": e, "targets": [{"queue": queue}]}]}}),
            EXPRESSIONS | TEXT)
    return {
        "Attributes": ATTRIBUTES,
        "EvaluateWorkerAttributes": ATTRIBUTES,
        "TargetWorkers": EXPRESSIONS,
        "TargetWorkersExpression": EXPRESSIONS,
        "EvaluateTaskAttributes": EXPRESSIONS,
        "FriendlyName": st.sampled_from(["Ann", "Ben", "Everyone", "Default", "Busy", "Offline"]) | TEXT,
        "UniqueName": st.sampled_from(["voice", "default", "email"]) | TEXT,
        "TaskChannel": st.sampled_from(["voice", "default", "sms", "telegraph", scene.main["TC"]]),
        "Ordering": st.sampled_from(["DateCreated:asc", "Priority:desc,DateCreated:asc", "VirtualStartTime:desc",
                                     "DateStatusChanged:asc", "Nope:sideways"]),
        "PageToken": st.sampled_from(["PT0", "PT1", "PT99", "garbage"]),
        "Template": st.sampled_from(["FIFO", "NONE", "LIFO"]),
        "Instruction": INSTRUCTIONS,
        "Reason": TEXT,
        "ReEvaluateTasks": BOOLEAN,
        "IgnoreCapacity": BOOLEAN,
        "EventType": st.sampled_from(["task.created", "reservation.created", "worker.activity.update"]),
        "Minutes": st.integers(-5, 1000).map(str),
        "PageSize": st.integers(-1, 1001).map(str),
        "Page": st.integers(-1, 5).map(str),
        "Capacity": st.integers(-1, 60).map(str),
        "Timeout": st.integers(0, 1_300_000).map(str),
        "Priority": st.integers(-1, 2**31).map(str),
        "MaxReservedWorkers": st.integers(0, 51).map(str),
        "TaskReservationTimeout": st.integers(0, 86_401).map(str),
    }.get(name)


def sids_of(kind: str, scene: Scene):
    """SIDs of this kind (this workspace's or the other's), of another kind, or well-formed but unknown."""
    mine = scene.sids.get(kind, [])
    others = [s for k, group in scene.sids.items() if k != kind for s in group]
    choices = [st.sampled_from(others), st.just(kind + "0" * 32)]
    if mine:
        choices.insert(0, st.sampled_from(mine))
    return st.one_of(*choices)


def resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = {**CONTRACT["schemas"][schema["$ref"]], **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def value(name: str, prop: dict, scene: Scene, valid: bool):
    """A strategy for one parameter: typed from the contract, realistic from the scene, or (unless valid) junk."""
    prop = resolve(prop)
    kind = prop.get("type")
    if kind == "array":
        item = value(name, prop.get("items", {}), scene, valid)
        return st.lists(item, min_size=1, max_size=3)
    good = []
    special = named(name, scene)
    if special is not None:
        good.append(special)
    if "enum" in prop:
        good.append(st.sampled_from(prop["enum"]))
    if kind == "boolean":
        good.append(BOOLEAN)
    elif kind == "integer":
        good.append(st.integers(-10, 200).map(str))
        good.append(st.sampled_from(integer_values(name, DOCUMENTED)).map(str))  # 2^63, 10^23, bounds +-1
    if "pattern" in prop and re.match(r"\^[A-Z]{2}\[", prop["pattern"]):
        good.append(sids_of(prop["pattern"][1:3], scene))
    fmt = prop.get("format")
    if fmt == "date-time":
        good.append(DATES)
    elif fmt == "uri":
        good.append(URLS)
    if not good:
        good.append(TEXT)
    return st.one_of(*good) if valid else st.one_of(*good, JUNK)


@st.composite
def requests_for(draw, method: str, template: str, scene: Scene):
    """(path, params, workspace it aims at): one request of the operation, valid or not."""
    valid = draw(st.booleans())
    segments, kinds = template.split("/"), {}
    for i, part in enumerate(segments):
        m = re.fullmatch(r"\{(\w+)\}", part)
        if m:
            kinds[i] = PLACEHOLDER_KIND.get(m.group(1)) or SEGMENT_KIND[segments[i - 1]]
    target = draw(st.sampled_from(["main", "main", "main", "other"]))
    home = getattr(scene, target)
    parts = list(segments)
    for i, kind in kinds.items():
        if kind == "TC" and draw(st.booleans()):
            parts[i] = "voice"  # TaskChannels are also addressed by unique name
        elif valid or draw(st.integers(0, 3)) > 0:
            parts[i] = home[kind]
        else:
            parts[i] = quote(draw(sids_of(kind, scene) | JUNK.filter(bool)), safe="")
    props = resolve(CONTRACT["schemas"].get(f"request {method} {template}", {})).get("properties", {})
    required = REQUIRED.get((method, template), ()) if valid else ()
    params = draw(st.fixed_dictionaries(
        {n: value(n, props[n], scene, valid) for n in required},
        optional={n: value(n, p, scene, valid) for n, p in props.items() if n not in required},
    ))
    if not valid:
        params.update(draw(st.dictionaries(TEXT.filter(bool), JUNK, max_size=2)))  # names the API does not know
    return "/".join(parts), params, home["WS"]


# ---------------------------------------------------------------------------- the checks


def check_error(response: requests.Response) -> None:
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert body["status"] == response.status_code, body
    assert isinstance(body["code"], int) and isinstance(body["message"], str) and body["message"]
    assert "Traceback" not in body["message"]
    assert body["more_info"].startswith("https://"), body


def send(session, router, schema, scene, method, template, request) -> requests.Response:
    path, params, _ws = request
    url = router.base_url + path
    before = scene.state() if method != "GET" else None
    kwargs = {"params": params} if method == "GET" else {"data": params}
    started = time.monotonic()
    try:
        response = session.request(method, url, timeout=TIMEOUT, **kwargs)
    except requests.Timeout:
        pytest.fail(f"{method} {path} hung for more than {TIMEOUT} s with {params!r}")
    OUTCOMES[(method, f"{response.status_code // 100}xx")] += 1
    where = f"{method} {path} {params!r}"[:2000]
    assert response.status_code < 500, f"{where} -> {response.status_code} {response.text[:500]}"
    if response.status_code >= 400:
        check_error(response)
        if before is not None:
            assert scene.state() == before, f"{where} was refused ({response.status_code}) but changed state"
    else:
        schema.check_response(method, response)
    assert time.monotonic() - started < TIMEOUT
    return response


def fuzz_settings(examples: int):
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=not LONG_RUN,
        database=None,  # nothing written into the working copy; a failure prints its example
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )


def run(session, router, schema, scene, method, template, examples: int) -> None:
    @fuzz_settings(examples)
    @given(st.data())
    def fuzz(data):
        request = data.draw(requests_for(method, template, scene), label="request")
        send(session, router, schema, scene, method, template, request)

    if LONG_RUN and "FUZZ_SEED" in os.environ:
        fuzz = seed(int(os.environ["FUZZ_SEED"]))(fuzz)
    fuzz()


MUTATING = [op for op in OPERATIONS if op[0] != "DELETE" and "Statistics" not in op[1]]
DELETES = [op for op in OPERATIONS if op[0] == "DELETE"]
STATISTICS = [op for op in OPERATIONS if "Statistics" in op[1]]


@pytest.mark.parametrize(("method", "template"), MUTATING, ids=[f"{m} {t}" for m, t in MUTATING])
def test_fuzz_operation(session, router, schema, scene, method, template):
    run(session, router, schema, scene, method, template, EXAMPLES)


@pytest.mark.parametrize(("method", "template"), DELETES, ids=[f"{m} {t}" for m, t in DELETES])
def test_fuzz_delete(session, router, schema, method, template):
    """Deletes get a scene of their own each time, so the other operations keep theirs."""

    @fuzz_settings(max(3, EXAMPLES // 3))
    @given(st.data())
    def fuzz(data):
        fresh = Scene(router)
        request = data.draw(requests_for(method, template, fresh), label="request")
        send(session, router, schema, fresh, method, template, request)

    fuzz()


@pytest.mark.parametrize(("method", "template"), STATISTICS, ids=[f"{m} {t}" for m, t in STATISTICS])
def test_fuzz_statistics(session, router, schema, scene, method, template):
    run(session, router, schema, scene, method, template, STATISTICS_EXAMPLES)


def test_every_operation_of_the_contract_is_fuzzed():
    assert set(MUTATING) | set(DELETES) | set(STATISTICS) == set(OPERATIONS)
    assert len(OPERATIONS) == sum(len(item) for item in CONTRACT["paths"].values())
    for method, template in OPERATIONS:
        if method == "POST" and "Statistics" not in template:  # every create and update: its form parameters
            assert f"request POST {template}" in CONTRACT["schemas"], template


# ---------------------------------------------------------------------------- the edges, every one (issue 22)


def edge_cases(method: str, template: str) -> list[tuple[str, str]]:
    """(parameter, value) for every integer and date parameter of the operation, at every edge."""
    props = resolve(CONTRACT["schemas"].get(f"request {method} {template}", {})).get("properties", {})
    cases = []
    for name, prop in props.items():
        prop = resolve(prop)
        if prop.get("type") == "integer":
            cases += [(name, str(v)) for v in integer_values(name, DOCUMENTED)]
        elif prop.get("format") == "date-time":
            cases += [(name, v) for v in DATE_EDGES]
    return cases


EDGE_OPERATIONS = [op for op in OPERATIONS if edge_cases(*op)]
# The instruction that reads each of a reservation update's timeouts (without it they are not read).
READ_WITH = {"DequeueTimeout": "dequeue", "CallTimeout": "call", "Timeout": "conference",
             "MaxParticipants": "conference"}


def valid_base(method: str, template: str, scene: Scene) -> tuple[str, dict]:
    """The operation's path in the main workspace and the parameters it needs to succeed, with fresh names."""
    segments = template.split("/")
    for i, part in enumerate(segments):
        m = re.fullmatch(r"\{(\w+)\}", part)
        if m:
            segments[i] = scene.main[PLACEHOLDER_KIND.get(m.group(1)) or SEGMENT_KIND[segments[i - 1]]]
    fresh = f"Edge {time.monotonic_ns()}"
    base = {"FriendlyName": fresh, "UniqueName": fresh.replace(" ", "-"), "Configuration": scene.main["config"]}
    return "/".join(segments), {n: base[n] for n in REQUIRED.get((method, template), ())}


@pytest.mark.parametrize(("method", "template"), EDGE_OPERATIONS, ids=[f"{m} {t}" for m, t in EDGE_OPERATIONS])
def test_every_integer_and_date_at_its_edges(session, router, schema, scene, method, template):
    """Each integer at +-2^63, +-10^23, 0, -1 and its documented bounds +-1, each date at datetime's ends: a
    Twilio-shaped 4xx (state unchanged) or a valid 2xx, never a 500; outside a documented range never a 2xx,
    and the refusal names the parameter; a documented bound of a read (GET) is accepted."""
    for name, text in edge_cases(method, template):
        path, params = valid_base(method, template, scene)
        params[name] = text
        instruction = READ_WITH.get(name) if "/Reservations/" in template else None
        if instruction:
            params["Instruction"] = instruction
        response = send(session, router, schema, scene, method, template, (path, params, scene.main["WS"]))
        where = f"{method} {path} {name}={text}"
        number = int(text) if text.lstrip("-").isdigit() else None
        # A reservation's Timeout is the conference instruction's, not a Task's; the instruction is refused
        # for the scene's task (no caller waiting) before its values are read, so only "not accepted" holds.
        documented = {k: v for k, v in DOCUMENTED.items() if not (instruction and k == "Timeout")}
        if number is not None and outside(name, number, documented):
            assert response.status_code == 400, f"{where} was accepted: {response.status_code} {response.text}"
            assert instruction or name in response.json()["message"], f"{where}: the refusal does not name {name}"
        elif (method == "GET" and number is not None and name in documented
              and number in [b for b in documented[name] if b is not None]):
            assert response.status_code == 200, f"{where} is a documented bound: {response.text}"


def test_the_edges_reach_every_operation_with_numbers_or_dates():
    """Every operation whose parameters include an integer or a date is in the sweep, with each edge."""
    assert len(EDGE_OPERATIONS) >= 25
    cases = edge_cases("GET", "/v1/Workspaces/{WorkspaceSid}/Statistics")
    assert ("Minutes", str(2**63)) in cases and ("Minutes", "43201") in cases and ("EndDate", "9999-12-31") in cases
