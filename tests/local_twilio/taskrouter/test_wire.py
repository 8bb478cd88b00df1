"""The wire, with raw HTTP: Twilio's schema, status codes, ETags, error bodies, 400s, no 500s.

The schema is the repository's facts-only contract (tests/contracts/), generated
from Twilio's OpenAPI description (twilio-oai, MIT) by scripts/make_contract.py.
"""

import json
import re
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests
from taskrouter_support import Http, snapshot

from tutorial_helpers.local_twilio import LocalTaskRouter
from tutorial_helpers.local_twilio.local_api.urls import UNAUTHENTICATED
from tutorial_helpers.local_twilio.local_api.urls import URLS as LOCAL_URLS
from tutorial_helpers.local_twilio.taskrouter.urls import URLS

ROOT = Path(__file__).resolve().parents[3]
CONTRACT_PATH = ROOT / "tests" / "contracts" / "taskrouter_v1.json"
DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
JSON_STRING_FIELDS = ("attributes", "configuration", "addons")
ERROR_KEYS = {"code", "message", "more_info", "status"}
OTHER_ACCOUNT = ("AC" + "b" * 32, "token-of-another-account")


# ---------------------------------------------------------------------------- the schema


@pytest.fixture(scope="module")
def contract() -> dict:
    return json.loads(CONTRACT_PATH.read_text())


class Schema:
    """Checks answers against the contract: every property present, types, patterns, formats, statuses."""

    def __init__(self, contract: dict, base_url: str):
        self.contract = contract
        self.base_url = base_url
        self.seen: set[tuple[str, str]] = set()
        self.routes = []
        for template in contract["paths"]:
            pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
            literals = sum(1 for part in template.split("/") if part and "{" not in part)
            self.routes.append((literals, re.compile(pattern), template))
        # A literal segment beats a placeholder (.../Workers/Statistics before .../Workers/{Sid}).
        self.routes.sort(key=lambda r: -r[0])

    def template(self, path: str) -> str:
        for _literals, pattern, template in self.routes:
            if pattern.match(path):
                return template
        raise AssertionError(f"{path} is not a path of Twilio's TaskRouter v1 spec")

    def resolve(self, schema: dict) -> dict:
        while "$ref" in schema:
            schema = self.contract["schemas"][schema["$ref"]]
        return schema

    def check_response(self, method: str, response: requests.Response) -> None:
        path = urlparse(response.url).path
        template = self.template(path)
        codes = self.contract["paths"][template][method.lower()]
        assert str(response.status_code) in codes, (
            f"{method} {path} answered {response.status_code}; the spec has {sorted(codes)}: {response.text}"
        )
        self.seen.add((method.upper(), template))
        body_schema = codes[str(response.status_code)]
        if body_schema is None:
            assert response.content == b"", f"{method} {path}: a {response.status_code} has an empty body"
            return
        assert response.headers["Content-Type"].startswith("application/json")
        body = response.json()
        if "$ref" in body_schema:
            self.check_instance(body_schema, body, f"{method} {path}")
        else:
            self.check_list(body_schema, body, f"{method} {path}")

    def check_list(self, schema: dict, body: dict, where: str) -> None:
        props = schema["properties"]
        key = next(k for k in props if k != "meta")
        assert set(body) == {"meta", key}, f"{where}: list keys {sorted(body)}"
        meta = body["meta"]
        for name, prop in props["meta"]["properties"].items():
            assert name in meta, f"{where}: meta.{name} is missing"
            self.check_value(prop, meta[name], f"{where} meta.{name}", ours=True)
        assert meta["key"] == key
        for i, item in enumerate(body[key]):
            self.check_instance(props[key]["items"], item, f"{where} [{i}]")

    def check_instance(self, schema: dict, body: dict, where: str) -> None:
        props = self.resolve(schema)["properties"]
        missing = sorted(set(props) - set(body))
        assert not missing, f"{where}: fields missing from the answer: {missing}"
        for name, prop in props.items():
            self.check_value(prop, body[name], f"{where} .{name}", ours=name in ("url", "links", "actor_url",
                                                                                "resource_url"))
            if name in JSON_STRING_FIELDS and body[name] is not None:
                assert isinstance(json.loads(body[name]), dict), f"{where} .{name} is not a JSON object string"

    def check_value(self, prop: dict, value, where: str, ours: bool = False) -> None:
        prop = {**self.resolve(prop), **{k: v for k, v in prop.items() if k != "$ref"}}
        if value is None:
            assert prop.get("nullable") or "type" not in prop, f"{where} is null but not nullable"
            return
        kind = prop.get("type")
        types = {"string": str, "integer": int, "boolean": bool, "object": dict, "array": list,
                 "number": (int, float)}
        if kind is not None:
            assert isinstance(value, types[kind]) and not (kind == "integer" and isinstance(value, bool)), (
                f"{where}: {value!r} is not {kind}"
            )
        if "enum" in prop:
            assert value in prop["enum"], f"{where}: {value!r} not in {prop['enum']}"
        if "pattern" in prop:
            assert re.match(prop["pattern"], value), f"{where}: {value!r} does not match {prop['pattern']}"
        if "minLength" in prop:
            assert len(value) >= prop["minLength"], where
        if "maxLength" in prop:
            assert len(value) <= prop["maxLength"], where
        fmt = prop.get("format")
        if fmt == "date-time":
            assert DATE.match(value), f"{where}: {value!r} is not Twilio's date shape"
        elif fmt == "uri":
            self.check_url(value, where, ours)
        elif fmt == "uri-map":
            assert value, f"{where}: links must not be empty"
            for name, url in value.items():
                self.check_url(url, f"{where}.{name}", ours=True)

    def check_url(self, url: str, where: str, ours: bool) -> None:
        parsed = urlparse(url)
        assert parsed.scheme in ("http", "https") and parsed.netloc, f"{where}: {url!r} is not absolute"
        if ours:
            assert url.startswith(self.base_url + "/v1/"), f"{where}: {url!r} does not lead back to {self.base_url}"


class Wire(Http):
    """Raw HTTP where every answer is checked against the spec."""

    def __init__(self, taskrouter, contract: dict):
        super().__init__(taskrouter)
        self.schema = Schema(contract, taskrouter.base_url)

    def call(self, method: str, path: str, data=None, status: int | None = None, **kwargs) -> dict:
        response = self.request(method, path, data=data, **kwargs)
        expected = status or {"GET": 200, "DELETE": 204}.get(method, 200)
        assert response.status_code == expected, (method, path, response.status_code, response.text)
        self.schema.check_response(method, response)
        return response.json() if response.content else {}


@pytest.fixture(scope="module")
def shared_router(tmp_path_factory):
    """One server for the long tables below; each test works in a workspace of its own."""
    with LocalTaskRouter(data_dir=tmp_path_factory.mktemp("wire")) as tr:
        yield tr


@pytest.fixture
def http(shared_router):
    h = Http(shared_router)
    yield h
    h.session.close()


@pytest.fixture
def wire(shared_router, contract):
    w = Wire(shared_router, contract)
    yield w
    w.session.close()


def unique(name: str) -> str:
    """Workspace names are unique per account, and the tables share one server."""
    return f"{name} {uuid.uuid4().hex[:8]}"


def error_body(response: requests.Response, status: int, code: int | None = None) -> dict:
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert body["status"] == status and isinstance(body["code"], int) and body["message"]
    assert body["more_info"].startswith("https://")
    if code is not None:
        assert body["code"] == code, body
    return body


# ---------------------------------------------------------------------------- every answer vs. the schema


def test_every_answer_matches_twilios_schema(wire):
    """Drive every endpoint of the spec (statistics aside) and check each answer."""
    c = wire.call
    ws = c("POST", "/v1/Workspaces", {"FriendlyName": unique("Wire"), "MultiTaskEnabled": "false",
                                      "EventCallbackUrl": "http://127.0.0.1:9/events"}, status=201)
    W = f"/v1/Workspaces/{ws['sid']}"
    c("GET", "/v1/Workspaces")
    c("GET", W)
    c("POST", W, {"FriendlyName": "Wire 2"})
    idle = c("POST", f"{W}/Activities", {"FriendlyName": "Idle", "Available": "true"}, status=201)
    busy = c("POST", f"{W}/Activities", {"FriendlyName": "Busy", "Available": "false"}, status=201)
    c("GET", f"{W}/Activities")
    c("GET", f"{W}/Activities/{idle['sid']}")
    c("POST", f"{W}/Activities/{idle['sid']}", {"FriendlyName": "Ready"})
    channel = c("POST", f"{W}/TaskChannels", {"FriendlyName": "Email", "UniqueName": "email"}, status=201)
    c("GET", f"{W}/TaskChannels")
    c("GET", f"{W}/TaskChannels/{channel['sid']}")
    c("POST", f"{W}/TaskChannels/{channel['sid']}", {"FriendlyName": "E-mail"})
    queue = c("POST", f"{W}/TaskQueues", {"FriendlyName": "Q", "TargetWorkers": "skill == 'x'",
                                          "AssignmentActivitySid": busy["sid"]}, status=201)
    bare_queue = c("POST", f"{W}/TaskQueues", {"FriendlyName": "Bare"}, status=201)
    c("GET", f"{W}/TaskQueues")
    c("GET", f"{W}/TaskQueues/{queue['sid']}")
    c("POST", f"{W}/TaskQueues/{queue['sid']}", {"MaxReservedWorkers": "2"})
    config = json.dumps({"task_routing": {"filters": [
        {"filter_friendly_name": "x", "expression": "1==1", "targets": [{"queue": queue["sid"]}]}]}})
    wf = c("POST", f"{W}/Workflows", {"FriendlyName": "WF", "Configuration": config,
                                      "AssignmentCallbackUrl": "http://127.0.0.1:9/unused"}, status=201)
    c("GET", f"{W}/Workflows")
    c("GET", f"{W}/Workflows/{wf['sid']}")
    c("POST", f"{W}/Workflows/{wf['sid']}", {"TaskReservationTimeout": "600"})
    worker = c("POST", f"{W}/Workers", {"FriendlyName": "Ann", "Attributes": '{"skill": "x"}'}, status=201)
    c("GET", f"{W}/Workers")
    c("GET", f"{W}/Workers/{worker['sid']}")
    wc = c("GET", f"{W}/Workers/{worker['sid']}/Channels")["channels"][0]
    c("GET", f"{W}/Workers/{worker['sid']}/Channels/{wc['sid']}")
    c("POST", f"{W}/Workers/{worker['sid']}/Channels/{wc['sid']}", {"Capacity": "2"})
    task = c("POST", f"{W}/Tasks", {"Attributes": '{"n": 1}', "WorkflowSid": wf["sid"]}, status=201)
    assert task["task_queue_entered_date"] is not None and task["reason"] is None
    c("GET", f"{W}/Tasks")
    c("GET", f"{W}/Tasks/{task['sid']}")
    c("POST", f"{W}/Workers/{worker['sid']}", {"ActivitySid": idle["sid"]})
    res = c("GET", f"{W}/Tasks/{task['sid']}/Reservations")["reservations"][0]
    c("GET", f"{W}/Tasks/{task['sid']}/Reservations/{res['sid']}")
    c("GET", f"{W}/Workers/{worker['sid']}/Reservations")
    c("GET", f"{W}/Workers/{worker['sid']}/Reservations/{res['sid']}")
    c("POST", f"{W}/Workers/{worker['sid']}/Reservations/{res['sid']}", {"ReservationStatus": "accepted"})
    c("POST", f"{W}/Tasks/{task['sid']}/Reservations/{res['sid']}", {"ReservationStatus": "completed"})
    done = c("GET", f"{W}/Tasks/{task['sid']}")
    assert done["assignment_status"] == "completed" and done["reason"]
    other = c("POST", f"{W}/Tasks", {"Attributes": "{}", "WorkflowSid": wf["sid"], "TaskChannel": "email"},
              status=201)
    c("POST", f"{W}/Tasks/{other['sid']}", {"AssignmentStatus": "canceled", "Reason": "test"})
    events = c("GET", f"{W}/Events")["events"]
    c("GET", f"{W}/Events/{events[0]['sid']}")
    # A page with previous and next links, both absolute.
    page = c("GET", f"{W}/Events?PageSize=1&Page=1&PageToken=PT1")
    assert page["meta"]["previous_page_url"] and page["meta"]["next_page_url"]
    # Deletes answer 204 with no body.
    c("DELETE", f"{W}/Tasks/{other['sid']}")
    c("DELETE", f"{W}/Workers/{worker['sid']}")
    c("DELETE", f"{W}/Tasks/{task['sid']}")
    c("DELETE", f"{W}/Workflows/{wf['sid']}")
    c("DELETE", f"{W}/TaskQueues/{bare_queue['sid']}")
    c("DELETE", f"{W}/TaskChannels/{channel['sid']}")
    error_body(wire.delete(f"{W}/Activities/{busy['sid']}"), 400)  # still a queue's assignment activity
    c("DELETE", f"{W}/TaskQueues/{queue['sid']}")
    c("DELETE", f"{W}/Activities/{busy['sid']}")
    c("DELETE", W)

    wanted = {
        (method.upper(), template)
        for template, item in wire.schema.contract["paths"].items()
        if "Statistics" not in template
        for method in item
        if method in ("get", "post", "delete")
    }
    assert wanted - wire.schema.seen == set(), "endpoints of the spec the test did not reach"


def test_list_meta_and_sids_and_dates(wire):
    ws = wire.call("POST", "/v1/Workspaces", {"FriendlyName": unique("Meta")}, status=201)
    assert re.fullmatch(r"WS[0-9a-f]{32}", ws["sid"])
    assert DATE.match(ws["date_created"]) and DATE.match(ws["date_updated"])
    listed = wire.call("GET", f"/v1/Workspaces/{ws['sid']}/Activities?PageSize=2")
    meta = listed["meta"]
    assert (meta["page"], meta["page_size"], meta["key"]) == (0, 2, "activities")
    assert meta["previous_page_url"] is None
    second = wire.call("GET", meta["next_page_url"])
    assert second["meta"]["page"] == 1 and second["meta"]["next_page_url"] is None
    assert len(listed["activities"]) == 2 and len(second["activities"]) == 1
    assert {a["friendly_name"] for a in listed["activities"] + second["activities"]} == {
        "Offline", "Available", "Unavailable"}


# ---------------------------------------------------------------------------- ETag / If-Match


@pytest.fixture
def etag_setup(wire):
    """A workspace with a worker, a task and a pending reservation."""
    ws = wire.call("POST", "/v1/Workspaces", {"FriendlyName": unique("ETags")}, status=201)
    W = f"/v1/Workspaces/{ws['sid']}"
    available = next(a for a in wire.call("GET", f"{W}/Activities")["activities"] if a["available"])
    queue = wire.call("POST", f"{W}/TaskQueues", {"FriendlyName": "Q"}, status=201)
    config = json.dumps({"task_routing": {"default_filter": {"queue": queue["sid"]}}})
    wf = wire.call("POST", f"{W}/Workflows", {"FriendlyName": "WF", "Configuration": config}, status=201)
    worker = wire.call("POST", f"{W}/Workers", {"FriendlyName": "Ann", "ActivitySid": available["sid"]},
                       status=201)
    task = wire.call("POST", f"{W}/Tasks", {"WorkflowSid": wf["sid"]}, status=201)
    res = wire.call("GET", f"{W}/Tasks/{task['sid']}/Reservations")["reservations"][0]
    return {
        "worker": (f"{W}/Workers/{worker['sid']}", {"Attributes": '{"x": 1}'}),
        "task": (f"{W}/Tasks/{task['sid']}", {"Priority": "3"}),
        "reservation": (f"{W}/Tasks/{task['sid']}/Reservations/{res['sid']}", {"ReservationStatus": "accepted"}),
    }


@pytest.mark.parametrize("kind", ["worker", "task", "reservation"])
def test_etag_and_if_match(wire, etag_setup, kind):
    path, change = etag_setup[kind]
    fetched = wire.get(path)
    etag = fetched.headers.get("ETag")
    assert etag, f"{kind} answers carry an ETag"
    before = fetched.json()
    stale = wire.post(path, data=change, headers={"If-Match": '"not-the-etag"'})
    error_body(stale, 412)
    assert wire.get(path).json() == before, "a 412 changes nothing"
    assert wire.get(path).headers["ETag"] == etag
    updated = wire.post(path, data=change, headers={"If-Match": etag})
    assert updated.status_code == 200, updated.text
    assert updated.headers["ETag"] != etag, "a change gives a new ETag"
    # The old ETag is now stale.
    error_body(wire.post(path, data=change, headers={"If-Match": etag}), 412)


def test_delete_with_stale_if_match_is_refused(wire, etag_setup):
    path, _change = etag_setup["worker"]
    error_body(wire.delete(path, headers={"If-Match": '"stale"'}), 412)
    assert wire.get(path).status_code == 200


# ---------------------------------------------------------------------------- 401 / 404


@pytest.mark.parametrize(
    ("what", "auth"),
    [
        ("missing", None),
        ("wrong token", "wrong-token"),
        ("unknown account", ("AC" + "f" * 32, "whatever")),
        ("empty", ("", "")),
    ],
)
@pytest.mark.parametrize(("method", "path"), [("GET", "/v1/Workspaces"), ("POST", "/v1/Workspaces"),
                                              ("GET", "/v1/NoSuchThing"), ("GET", "/_local/Clock")])
def test_unauthenticated_is_401_20003(http, what, auth, method, path):
    if auth == "wrong-token":
        auth = (http.auth[0], "wrong-token")
    response = http.request(method, path, auth=auth, data={"FriendlyName": "Nope"} if method == "POST" else None)
    body = error_body(response, 401, 20003)
    assert body["message"] == "Authenticate"
    assert "Nope" not in [w["friendly_name"] for w in http.ok("GET", "/v1/Workspaces")["workspaces"]]


ROUTES = [(rule, method) for rule, methods, _handler in URLS + LOCAL_URLS for method in methods
          if rule not in UNAUTHENTICATED]


@pytest.mark.parametrize(("rule", "method"), ROUTES, ids=[f"{m} {r}" for r, m in ROUTES])
def test_every_route_needs_credentials(http, known, rule, method):
    ws, worker = known
    path = re.sub(r"<(\w+)>", lambda m: {"ws": ws, "worker": worker}.get(m.group(1), "XX" + "0" * 32), rule)
    for auth in (None, (http.auth[0], "wrong")):
        error_body(http.request(method, path, auth=auth, data={"FriendlyName": "x"} if method == "POST" else None),
                   401, 20003)
    assert http.ok("GET", f"/v1/Workspaces/{ws}")["friendly_name"].startswith("Known"), "nothing changed"


def test_broken_authorization_header_is_401(http):
    for header in ("Basic !!!not-base64", "Bearer abc", "Basic", "Basic " + "YWJj"):
        response = http.request("GET", "/v1/Workspaces", auth=None, headers={"Authorization": header})
        error_body(response, 401, 20003)


def test_health_needs_no_credentials(http):
    response = http.get("/_local/health", auth=None)
    assert response.status_code == 200 and response.json()["status"] == "ok"


@pytest.fixture
def known(wire):
    ws = wire.call("POST", "/v1/Workspaces", {"FriendlyName": unique("Known")}, status=201)
    worker = wire.call("POST", f"/v1/Workspaces/{ws['sid']}/Workers", {"FriendlyName": "W"}, status=201)
    return ws["sid"], worker["sid"]


@pytest.mark.parametrize(
    "path",
    [
        "/v1/Workspaces/WS" + "0" * 32,
        "/v1/Workspaces/not-a-sid",
        "/v1/Workspaces/WS" + "0" * 32 + "/Workers",
        "/v1/Workspaces/{ws}/Workers/WK" + "0" * 32,
        "/v1/Workspaces/{ws}/Activities/WA" + "0" * 32,
        "/v1/Workspaces/{ws}/TaskQueues/WQ" + "0" * 32,
        "/v1/Workspaces/{ws}/Workflows/WW" + "0" * 32,
        "/v1/Workspaces/{ws}/Tasks/WT" + "0" * 32,
        "/v1/Workspaces/{ws}/Tasks/WT" + "0" * 32 + "/Reservations",
        "/v1/Workspaces/{ws}/TaskChannels/TC" + "0" * 32,
        "/v1/Workspaces/{ws}/Events/EV" + "0" * 32,
        "/v1/Workspaces/{ws}/Workers/{worker}/Channels/WC" + "0" * 32,
        "/v1/Workspaces/{ws}/Workers/{worker}/Reservations/WR" + "0" * 32,
        "/v1/Workspaces/{ws}/Workers/{ws}",  # a sid of the wrong kind
        "/v1/NoSuchResource",
        "/v2/Workspaces",
        "/v1/Workspaces/{ws}/Bogus",
        "/",
    ],
)
def test_unknown_resources_and_routes_are_404_20404(http, known, path):
    ws, worker = known
    response = http.get(path.format(ws=ws, worker=worker))
    body = error_body(response, 404, 20404)
    assert "was not found" in body["message"]


def test_unknown_sid_on_update_and_delete_is_404(http, known):
    ws, _worker = known
    missing = f"/v1/Workspaces/{ws}/Workers/WK" + "0" * 32
    error_body(http.post(missing, data={"FriendlyName": "x"}), 404, 20404)
    error_body(http.delete(missing), 404, 20404)


def test_another_accounts_workspace_is_not_found(tmp_path):
    with LocalTaskRouter(data_dir=tmp_path / "data", extra_accounts=dict([OTHER_ACCOUNT])) as tr:
        mine = Http(tr)
        theirs = Http(tr)
        theirs.auth = OTHER_ACCOUNT
        ws = theirs.ok("POST", "/v1/Workspaces", {"FriendlyName": "Theirs"}, status=201)
        assert ws["account_sid"] == OTHER_ACCOUNT[0]
        worker = theirs.ok("POST", f"/v1/Workspaces/{ws['sid']}/Workers", {"FriendlyName": "T"}, status=201)
        W = f"/v1/Workspaces/{ws['sid']}"
        assert mine.ok("GET", "/v1/Workspaces")["workspaces"] == []
        for method, path, data in [
            ("GET", W, None),
            ("POST", W, {"FriendlyName": "Stolen"}),
            ("DELETE", W, None),
            ("GET", f"{W}/Workers", None),
            ("POST", f"{W}/Workers", {"FriendlyName": "Intruder"}),
            ("GET", f"{W}/Workers/{worker['sid']}", None),
            ("DELETE", f"{W}/Workers/{worker['sid']}", None),
            ("GET", f"{W}/Events", None),
            ("GET", f"/_local/Alerts?WorkspaceSid={ws['sid']}", None),
        ]:
            error_body(mine.request(method, path, data=data), 404, 20404)
        assert theirs.ok("GET", W)["friendly_name"] == "Theirs"
        assert [w["friendly_name"] for w in theirs.ok("GET", f"{W}/Workers")["workers"]] == ["T"]
        # The same friendly name is free in another account.
        mine.ok("POST", "/v1/Workspaces", {"FriendlyName": "Theirs"}, status=201)


# ---------------------------------------------------------------------------- 400s leave nothing behind


@pytest.fixture
def scene(http):
    """A workspace with one of everything; returns the sids for the path templates below."""
    ws = http.ok("POST", "/v1/Workspaces", {"FriendlyName": unique("Scene")}, status=201)
    W = f"/v1/Workspaces/{ws['sid']}"
    queue = http.ok("POST", f"{W}/TaskQueues", {"FriendlyName": "Q"}, status=201)
    config = json.dumps({"task_routing": {"default_filter": {"queue": queue["sid"]}}})
    wf = http.ok("POST", f"{W}/Workflows", {"FriendlyName": "WF", "Configuration": config}, status=201)
    worker = http.ok("POST", f"{W}/Workers", {"FriendlyName": "Ann"}, status=201)
    task = http.ok("POST", f"{W}/Tasks", {"Attributes": '{"a": 1}', "WorkflowSid": wf["sid"]}, status=201)
    wc = http.ok("GET", f"{W}/Workers/{worker['sid']}/Channels")["channels"][0]
    return {"ws": ws["sid"], "queue": queue["sid"], "workflow": wf["sid"], "worker": worker["sid"],
            "task": task["sid"], "wc": wc["sid"], "W": W}


def config_with(expression: str = "1==1", queue: str = "{queue}") -> str:
    """A one-filter configuration; "{queue}" is replaced by the scene's queue."""
    return json.dumps({"task_routing": {"filters": [{"expression": expression, "targets": [{"queue": queue}]}]}})


LONG = "x" * 65
BIG_ATTRIBUTES = json.dumps({"blob": "y" * 4100})
DEEP_JSON = "[" * 3000 + "]" * 3000
DEEP_OBJECT = '{"a":' + "[" * 2000 + "]" * 2000 + "}"  # deeper than Python's recursion limit, < 4096 chars
NESTED_OBJECT = '{"a":' + "[" * 150 + "]" * 150 + "}"  # parses, but too deep to store and walk safely

BAD_REQUESTS = [
    # (id, method, path under the workspace ("" = /v1/Workspaces), form)
    ("workspace name too long", "POST", "", {"FriendlyName": LONG}),
    ("workspace name missing", "POST", "", {}),
    ("workspace bad boolean", "POST", "", {"FriendlyName": "New", "MultiTaskEnabled": "maybe"}),
    ("workspace template", "POST", "", {"FriendlyName": "New", "Template": "LIFO"}),
    ("workspace update half bad", "POST", "/{ws}", {"FriendlyName": "Renamed", "MultiTaskEnabled": "maybe"}),
    ("workspace timeout activity", "POST", "/{ws}", {"FriendlyName": "Renamed", "TimeoutActivitySid": "WA" + "0" * 32}),
    ("activity bad boolean", "POST", "/{ws}/Activities", {"FriendlyName": "A", "Available": "yes please"}),
    ("activity duplicate", "POST", "/{ws}/Activities", {"FriendlyName": "offline"}),
    ("worker attributes not JSON", "POST", "/{ws}/Workers", {"FriendlyName": "B", "Attributes": "{not json"}),
    ("worker attributes not an object", "POST", "/{ws}/Workers", {"FriendlyName": "B", "Attributes": "[1, 2]"}),
    ("worker attributes too long", "POST", "/{ws}/Workers", {"FriendlyName": "B", "Attributes": BIG_ATTRIBUTES}),
    ("worker attributes too deep", "POST", "/{ws}/Workers", {"FriendlyName": "B", "Attributes": DEEP_OBJECT}),
    ("worker attributes nested", "POST", "/{ws}/Workers", {"FriendlyName": "B", "Attributes": NESTED_OBJECT}),
    ("worker name too long", "POST", "/{ws}/Workers", {"FriendlyName": LONG}),
    ("worker duplicate name", "POST", "/{ws}/Workers", {"FriendlyName": "ann"}),
    ("worker unknown activity", "POST", "/{ws}/Workers", {"FriendlyName": "B", "ActivitySid": "WA" + "0" * 32}),
    ("worker update half bad", "POST", "/{ws}/Workers/{worker}", {"FriendlyName": "Renamed", "Attributes": "{bad"}),
    ("worker update unknown activity", "POST", "/{ws}/Workers/{worker}",
     {"Attributes": '{"x": 1}', "ActivitySid": "WA" + "0" * 32}),
    ("worker update bad boolean", "POST", "/{ws}/Workers/{worker}",
     {"FriendlyName": "Renamed", "RejectPendingReservations": "perhaps"}),
    ("queue bad expression", "POST", "/{ws}/TaskQueues", {"FriendlyName": "Q2", "TargetWorkers": 'languages HAS'}),
    ("queue max reserved 51", "POST", "/{ws}/TaskQueues", {"FriendlyName": "Q2", "MaxReservedWorkers": "51"}),
    ("queue max reserved 0", "POST", "/{ws}/TaskQueues", {"FriendlyName": "Q2", "MaxReservedWorkers": "0"}),
    ("queue max reserved not int", "POST", "/{ws}/TaskQueues", {"FriendlyName": "Q2", "MaxReservedWorkers": "two"}),
    ("queue task order", "POST", "/{ws}/TaskQueues", {"FriendlyName": "Q2", "TaskOrder": "RANDOM"}),
    ("queue name too long", "POST", "/{ws}/TaskQueues", {"FriendlyName": LONG}),
    ("queue update half bad", "POST", "/{ws}/TaskQueues/{queue}",
     {"FriendlyName": "Renamed", "MaxReservedWorkers": "51"}),
    ("queue update bad expression", "POST", "/{ws}/TaskQueues/{queue}",
     {"FriendlyName": "Renamed", "TargetWorkers": "((1==1)"}),
    ("workflow bad expression", "POST", "/{ws}/Workflows",
     {"FriendlyName": "W2", "Configuration": config_with("a ==")}),
    ("workflow unknown queue", "POST", "/{ws}/Workflows",
     {"FriendlyName": "W2", "Configuration": config_with(queue="WQ" + "0" * 32)}),
    ("workflow config not JSON", "POST", "/{ws}/Workflows", {"FriendlyName": "W2", "Configuration": "{"}),
    ("workflow config too deep", "POST", "/{ws}/Workflows", {"FriendlyName": "W2", "Configuration": DEEP_JSON}),
    ("workflow config missing", "POST", "/{ws}/Workflows", {"FriendlyName": "W2"}),
    ("workflow config over 1 MB", "POST", "/{ws}/Workflows",
     {"FriendlyName": "W2", "Configuration": config_with('x == "' + "y" * 1_000_000 + '"')}),
    ("workflow timeout 86401", "POST", "/{ws}/Workflows",
     {"FriendlyName": "W2", "Configuration": config_with(), "TaskReservationTimeout": "86401"}),
    ("workflow timeout 0", "POST", "/{ws}/Workflows",
     {"FriendlyName": "W2", "Configuration": config_with(), "TaskReservationTimeout": "0"}),
    ("workflow callback not http", "POST", "/{ws}/Workflows",
     {"FriendlyName": "W2", "Configuration": config_with(), "AssignmentCallbackUrl": "ftp://example.com"}),
    ("workflow update half bad", "POST", "/{ws}/Workflows/{workflow}",
     {"FriendlyName": "Renamed", "Configuration": config_with(queue="WQ" + "0" * 32)}),
    ("workflow update bad timeout", "POST", "/{ws}/Workflows/{workflow}",
     {"FriendlyName": "Renamed", "TaskReservationTimeout": "86401"}),
    ("task attributes not JSON", "POST", "/{ws}/Tasks", {"Attributes": "nope"}),
    ("task attributes too long", "POST", "/{ws}/Tasks", {"Attributes": BIG_ATTRIBUTES}),
    ("task attributes too deep", "POST", "/{ws}/Tasks", {"Attributes": DEEP_OBJECT}),
    ("task priority not int", "POST", "/{ws}/Tasks", {"Attributes": "{}", "Priority": "high"}),
    ("task priority huge", "POST", "/{ws}/Tasks", {"Attributes": "{}", "Priority": "9" * 30}),
    ("task timeout too long", "POST", "/{ws}/Tasks", {"Attributes": "{}", "Timeout": "1209601"}),
    ("task unknown workflow", "POST", "/{ws}/Tasks", {"Attributes": "{}", "WorkflowSid": "WW" + "0" * 32}),
    ("task unknown channel", "POST", "/{ws}/Tasks", {"Attributes": "{}", "TaskChannel": "telegraph"}),
    ("task cancel without reason", "POST", "/{ws}/Tasks/{task}", {"AssignmentStatus": "canceled"}),
    ("task complete while pending", "POST", "/{ws}/Tasks/{task}",
     {"Attributes": '{"changed": true}', "AssignmentStatus": "completed", "Reason": "x"}),
    ("task bad status", "POST", "/{ws}/Tasks/{task}", {"Priority": "4", "AssignmentStatus": "finished"}),
    ("task update attributes too long", "POST", "/{ws}/Tasks/{task}", {"Priority": "4", "Attributes": BIG_ATTRIBUTES}),
    ("channel duplicate", "POST", "/{ws}/TaskChannels", {"FriendlyName": "Voice 2", "UniqueName": "voice"}),
    ("channel bad boolean", "POST", "/{ws}/TaskChannels",
     {"FriendlyName": "E", "UniqueName": "e", "ChannelOptimizedRouting": "sure"}),
    ("worker channel capacity -1", "POST", "/{ws}/Workers/{worker}/Channels/{wc}", {"Capacity": "-1"}),
    ("worker channel capacity text", "POST", "/{ws}/Workers/{worker}/Channels/{wc}", {"Capacity": "lots"}),
    ("worker channel half bad", "POST", "/{ws}/Workers/{worker}/Channels/{wc}", {"Capacity": "3", "Available": "x"}),
    ("page size 0", "GET", "/{ws}/Workers?PageSize=0", None),
    ("page size 1001", "GET", "/{ws}/Workers?PageSize=1001", None),
    ("page size text", "GET", "/{ws}/Workers?PageSize=ten", None),
    ("page negative", "GET", "/{ws}/Workers?Page=-1", None),
    ("page token garbage", "GET", "/{ws}/Workers?PageToken=garbage", None),
    ("workers bad expression", "GET", "/{ws}/Workers?TargetWorkersExpression=languages%20HAS", None),
    ("workers bad boolean", "GET", "/{ws}/Workers?Available=sometimes", None),
    ("queues bad worker attributes", "GET", "/{ws}/TaskQueues?EvaluateWorkerAttributes=%7Bnope", None),
    ("queues deep worker attributes", "GET", "/{ws}/TaskQueues?EvaluateWorkerAttributes=" + "%5B" * 3000, None),
    ("tasks bad status", "GET", "/{ws}/Tasks?AssignmentStatus=pending,lost", None),
    ("tasks bad ordering", "GET", "/{ws}/Tasks?Ordering=Nope:sideways", None),
    ("tasks bad expression", "GET", "/{ws}/Tasks?EvaluateTaskAttributes=%3D%3D", None),
    ("events bad date", "GET", "/{ws}/Events?StartDate=yesterday", None),
    ("events bad minutes", "GET", "/{ws}/Events?Minutes=many", None),
    ("reservations bad status", "GET", "/{ws}/Tasks/{task}/Reservations?ReservationStatus=maybe", None),
    ("expression too deep", "POST", "/{ws}/TaskQueues",
     {"FriendlyName": "Q3", "TargetWorkers": "(" * 3000 + "1==1" + ")" * 3000}),
    ("clock backwards", "POST", "/_local/Clock", {"AdvanceSeconds": "-5"}),
    ("clock not a number", "POST", "/_local/Clock", {"AdvanceSeconds": "soon"}),
]


@pytest.mark.parametrize(("method", "path", "form"), [r[1:] for r in BAD_REQUESTS], ids=[r[0] for r in BAD_REQUESTS])
def test_bad_values_are_400_and_change_nothing(http, shared_router, scene, method, path, form):
    full = path if path.startswith("/_local") else "/v1/Workspaces" + path
    full = full.format(**scene)
    form = {k: v.replace("{queue}", scene["queue"]) for k, v in (form or {}).items()}
    before = snapshot(shared_router, scene["ws"])
    response = http.request(method, full, data=form or None)
    body = error_body(response, 400)
    assert "Traceback" not in body["message"]
    assert snapshot(shared_router, scene["ws"]) == before, "a refused request must leave no trace, in memory or on disk"


def test_a_refused_update_keeps_lists_in_creation_order(http, scene):
    W = scene["W"]
    second = http.ok("POST", f"{W}/Tasks", {"Attributes": '{"a": 2}', "WorkflowSid": scene["workflow"]}, status=201)
    order = [t["sid"] for t in http.ok("GET", f"{W}/Tasks")["tasks"]]
    assert order == [scene["task"], second["sid"]]
    # The attributes change is made, then the status change is refused: all of it is undone.
    refused = http.post(f"{W}/Tasks/{scene['task']}", data={"Attributes": '{"a": 9}', "AssignmentStatus": "completed",
                                                           "Reason": "done"})
    error_body(refused, 400)
    assert [t["sid"] for t in http.ok("GET", f"{W}/Tasks")["tasks"]] == order
    assert http.ok("GET", f"{W}/Tasks/{scene['task']}")["attributes"] == '{"a": 1}'


# ---------------------------------------------------------------------------- never a 500


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
MALFORMED = [
    ("json body", "POST", "/v1/Workspaces", {"data": '{"FriendlyName": "J"}',
                                             "headers": {"Content-Type": "application/json"}}),
    ("invalid utf-8 form", "POST", "/v1/Workspaces", {"data": b"FriendlyName=%FF%FE%FD", "headers": FORM}),
    ("raw bytes body", "POST", "/v1/Workspaces", {"data": b"\xff\xfe\x00\x01", "headers": FORM}),
    ("multipart garbage", "POST", "/v1/Workspaces", {"data": b"--x\r\n\r\n",
                                                     "headers": {"Content-Type": "multipart/form-data"}}),
    ("nul in name", "POST", "/{ws}/Workers", {"data": {"FriendlyName": "a\x00b"}}),
    ("null attributes", "POST", "/{ws}/Workers", {"data": {"FriendlyName": "N", "Attributes": "null"}}),
    ("empty attributes", "POST", "/{ws}/Tasks", {"data": {"Attributes": ""}}),
    ("config null", "POST", "/{ws}/Workflows", {"data": {"FriendlyName": "C", "Configuration": "null"}}),
    ("config list", "POST", "/{ws}/Workflows", {"data": {"FriendlyName": "C", "Configuration": "[]"}}),
    ("config routing list", "POST", "/{ws}/Workflows",
     {"data": {"FriendlyName": "C", "Configuration": '{"task_routing": []}'}}),
    ("config filters string", "POST", "/{ws}/Workflows",
     {"data": {"FriendlyName": "C", "Configuration": '{"task_routing": {"filters": "x"}}'}}),
    ("config target string", "POST", "/{ws}/Workflows",
     {"data": {"FriendlyName": "C", "Configuration": '{"task_routing": {"filters": [{"expression": "1==1", '
                                                     '"targets": ["x"]}]}}'}}),
    ("config expression number", "POST", "/{ws}/Workflows",
     {"data": {"FriendlyName": "C", "Configuration": '{"task_routing": {"filters": [{"expression": 1, '
                                                     '"targets": [{"queue": "{queue}"}]}]}}'}}),
    ("config queue number", "POST", "/{ws}/Workflows",
     {"data": {"FriendlyName": "C", "Configuration": '{"task_routing": {"default_filter": {"queue": 5}}}'}}),
    ("config default filter list", "POST", "/{ws}/Workflows",
     {"data": {"FriendlyName": "C", "Configuration": '{"task_routing": {"default_filter": []}}'}}),
    ("config timeout text", "POST", "/{ws}/Workflows",
     {"data": {"FriendlyName": "C", "Configuration": '{"task_routing": {"filters": [{"expression": "1==1", '
                                                     '"targets": [{"queue": "{queue}", "timeout": "x"}]}]}}'}}),
    ("config order_by number", "POST", "/{ws}/Workflows",
     {"data": {"FriendlyName": "C", "Configuration": '{"task_routing": {"filters": [{"expression": "1==1", '
                                                     '"targets": [{"queue": "{queue}", "order_by": 3}]}]}}'}}),
    ("config targets dict", "POST", "/{ws}/Workflows",
     {"data": {"FriendlyName": "C", "Configuration": '{"task_routing": {"default_filter": {"targets": {}}}}'}}),
    ("reservation bogus status", "POST", "/{ws}/Tasks/{task}/Reservations/WR" + "0" * 32,
     {"data": {"ReservationStatus": "bogus"}}),
    ("worker activity empty", "POST", "/{ws}/Workers/{worker}", {"data": {"ActivitySid": ""}}),
    ("delete collection", "DELETE", "/v1/Workspaces", {}),
    ("put instance", "PUT", "/{ws}", {}),
    ("patch worker", "PATCH", "/{ws}/Workers/{worker}", {}),
    ("huge page number", "GET", "/{ws}/Workers?Page=" + "9" * 40, {}),
    ("huge page token", "GET", "/{ws}/Workers?PageToken=PT" + "9" * 40, {}),
    ("huge priority filter", "GET", "/{ws}/Tasks?Priority=" + "9" * 400, {}),
    ("event types odd", "GET", "/{ws}/Events?EventType=%00&Minutes=-5", {}),
    ("date far future", "GET", "/{ws}/Events?StartDate=9999-99-99", {}),
    ("clock huge", "POST", "/_local/Clock", {"data": {"AdvanceSeconds": "9" * 30}}),
    ("alerts unknown workspace", "GET", "/_local/Alerts?WorkspaceSid=WS" + "0" * 32, {}),
    ("percent garbage path", "GET", "/v1/Workspaces/%ZZ%", {}),
    ("very long path", "GET", "/v1/Workspaces/" + "W" * 5000, {}),
    ("long AND chain", "POST", "/{ws}/TaskQueues",
     {"data": {"FriendlyName": "Q3", "TargetWorkers": " AND ".join(["1==1"] * 3000)}}),
    ("workspaces on tasks path", "GET", "/v1/Workspaces/{ws}/Tasks/{ws}/Reservations/{ws}", {}),
]


@pytest.mark.parametrize(("method", "path", "kwargs"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_requests_never_answer_500(http, scene, method, path, kwargs):
    full = path if path.startswith(("/v1", "/_local")) else "/v1/Workspaces" + path
    full = full.replace("{ws}", scene["ws"]).replace("{worker}", scene["worker"]).replace("{task}", scene["task"])
    kwargs = dict(kwargs)
    if isinstance(kwargs.get("data"), dict):
        kwargs["data"] = {k: v.replace("{queue}", scene["queue"]) for k, v in kwargs["data"].items()}
    response = http.request(method, full, **kwargs)
    assert response.status_code < 500, (response.status_code, response.text)
    if response.status_code >= 400:
        body = error_body(response, response.status_code)
        assert "Traceback" not in body["message"]
    assert http.get("/_local/health").status_code == 200
