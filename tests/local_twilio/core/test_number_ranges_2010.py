"""The 2010-04-01 API's numbers at their edges (issue 22): every integer the local server reads, on every
operation of the contract that it serves, at +-2^63, +-10^23, 0, -1 and the documented bounds +-1.

Each answer is a Twilio-shaped 4xx that changed nothing, or a 2xx on the contract; outside a documented range
it is never a 2xx, and the refusal names the parameter. Parameters of the contract the local server does
not read (MachineDetectionTimeout, TimeLimit, ...) are left out: nothing here acts on them.
"""

import json
import re

import pytest
import requests
from api_2010_contract import CONTRACT, check, route
from number_edges import DOCUMENTED_2010, integer_values, outside

from tutorial_helpers.local_twilio import LocalTaskRouter
from tutorial_helpers.local_twilio.voice.urls import URLS

READ = ("Page", "PageSize", "Timeout", "MaxSize")  # the integers the local 2010 API reads
ACCOUNT = "/2010-04-01/Accounts/{AccountSid}"
# What an operation needs to succeed, beside the number under test.
NEEDS = {
    ("POST", f"{ACCOUNT}/Calls.json"): {"To": "+12025550101", "From": "+15551230000",
                                        "Twiml": "<Response><Pause length='60'/></Response>"},
    ("POST", f"{ACCOUNT}/Queues.json"): {"FriendlyName": "edges"},
}


def served() -> list[tuple[str, str]]:
    """The contract's operations that the local server routes, as (METHOD, contract template)."""
    rules = {(m, re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule).replace("{account_sid}", "{AccountSid}").replace(
        "{sid}", "{Sid}")) for rule, methods, _h in URLS for m in methods if rule.startswith("/2010-04-01/")}
    return sorted(op for op in rules if op[1] in CONTRACT["paths"])


def edge_cases(method: str, template: str) -> list[tuple[str, int]]:
    props = CONTRACT["schemas"].get(f"request {method} {template}", {}).get("properties", {})
    return [(name, value) for name, prop in props.items()
            if prop.get("type") == "integer" and name in READ for value in integer_values(name, DOCUMENTED_2010)]


OPERATIONS = [op for op in served() if edge_cases(*op)]


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    with LocalTaskRouter(data_dir=tmp_path_factory.mktemp("edges2010")) as router, \
            pytest.MonkeyPatch.context() as mp:
        frozen = router.clock.now()  # a still clock: no call the sweep makes rings out between two snapshots
        mp.setattr(router.clock, "now", lambda: frozen)
        session = requests.Session()
        session.auth = (router.account_sid, router.auth_token)
        base = f"{router.base_url}/2010-04-01/Accounts/{router.account_sid}"
        queue = session.post(f"{base}/Queues.json", data={"FriendlyName": "support"}, timeout=10).json()
        yield {"router": router, "session": session, "Sid": queue["sid"]}
        session.close()


def voice_rows(router: LocalTaskRouter) -> str:
    """Numbers, keys and queues as they are, and which calls exist: what a refused request must not change."""
    state = router.backend.state
    with state.lock:
        rows = {sid: row for sid, row in state.rows.items()
                if row["_kind"] in ("incoming_phone_number", "key", "queue", "call")}
        kept = {sid: (row if row["_kind"] != "call" else row["_kind"]) for sid, row in rows.items()}
        return json.dumps(kept, sort_keys=True, default=str)


@pytest.mark.parametrize(("method", "template"), OPERATIONS, ids=[f"{m} {t}" for m, t in OPERATIONS])
def test_every_integer_at_its_edges(scene, method, template):
    router, session = scene["router"], scene["session"]
    path = template.replace("{AccountSid}", router.account_sid).replace("{Sid}", scene["Sid"])
    routes = [route(t) for t in CONTRACT["paths"]]
    for name, value in edge_cases(method, template):
        data = {**NEEDS.get((method, template), {}), name: str(value)}
        before = voice_rows(router)
        kwargs = {"params": data} if method == "GET" else {"data": data}
        response = session.request(method, router.base_url + path, timeout=10, **kwargs)
        where = f"{method} {path} {name}={value}"
        assert response.status_code < 500, f"{where} -> {response.status_code} {response.text[:300]}"
        if response.status_code >= 400:
            body = response.json()
            assert set(body) == {"code", "message", "more_info", "status"} and body["status"] == 400, body
            assert voice_rows(router) == before, f"{where} was refused but changed state"
        else:
            assert any(p.match(path) for _n, p, _t in routes)
            check(CONTRACT["paths"][template][method.lower()][str(response.status_code)], response.json(), where)
        if outside(name, value, DOCUMENTED_2010):
            assert response.status_code == 400, f"{where} was accepted: {response.text[:300]}"
            assert name in response.json()["message"], f"{where}: the refusal does not name {name}"


def test_the_sweep_covers_the_lists_calls_and_queues():
    templates = {t for _m, t in OPERATIONS}
    assert {f"{ACCOUNT}/Calls.json", f"{ACCOUNT}/Queues.json", f"{ACCOUNT}/Queues/{{Sid}}.json",
            f"{ACCOUNT}/IncomingPhoneNumbers.json", f"{ACCOUNT}/Keys.json"} <= templates
    assert ("Timeout", 601) in edge_cases("POST", f"{ACCOUNT}/Calls.json")


@pytest.mark.parametrize(("path", "form", "names"), [
    ("Calls.json", {"Timeout": "601"}, ("Timeout", "between 1 and 600 seconds")),
    ("Calls.json", {"Timeout": "99999999999999999999999"}, ("Timeout",)),
    ("Queues.json", {"FriendlyName": "q", "MaxSize": "5001"}, ("MaxSize", "between 1 and 5000")),
    ("Queues.json", {"FriendlyName": "q", "MaxSize": str(2**63)}, ("MaxSize",)),
])
def test_a_2010_bodys_numbers_out_of_range(scene, path, form, names):
    router, session = scene["router"], scene["session"]
    data = {"To": "+12025550101", "From": "+15551230000", "Twiml": "<Response/>", **form} \
        if path == "Calls.json" else form
    before = voice_rows(router)
    response = session.post(f"{router.base_url}/2010-04-01/Accounts/{router.account_sid}/{path}", data=data,
                            timeout=10)
    assert response.status_code == 400, response.text
    assert all(name in response.json()["message"] for name in names), response.json()
    assert voice_rows(router) == before
