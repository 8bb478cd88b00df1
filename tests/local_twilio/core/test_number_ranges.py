"""Numbers and dates out of range (issue 22): a 400 with Twilio's error body that names the parameter and
its range, and nothing changed; never the 500 that Python, SQLite or `datetime` gave before.

Each case names the input that was a 500 (or was accepted) before the fix. The schema fuzzer
(test_schema_fuzz.py) sends every edge to every operation; these pin the families down one by one.
"""

import json

import pytest
from taskrouter_support import Http, small_workspace, snapshot

from tutorial_helpers.local_twilio import LocalTaskRouter
from tutorial_helpers.local_twilio.core.exceptions import InvalidParameter
from tutorial_helpers.local_twilio.core.http import integer
from tutorial_helpers.local_twilio.core.limits import MINUTES, Range

HUGE = str(10**23)


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    with LocalTaskRouter(data_dir=tmp_path_factory.mktemp("ranges")) as router:
        client = router.client()
        ctx, acts, queue, workflow, made = small_workspace(client)
        ann = made["Ann"]
        task = ctx.tasks.create(attributes=json.dumps({"n": 1}), workflow_sid=workflow.sid)
        channel = ctx.workers(ann.sid).worker_channels.list()[0]
        http = Http(router)
        yield {"router": router, "http": http, "ws": ctx._solution["sid"], "queue": queue.sid,
               "workflow": workflow.sid, "worker": ann.sid, "task": task.sid, "channel": channel.sid}
        http.session.close()


def refused(scene, method: str, path: str, data: dict, *names: str) -> dict:
    """The request is a 400/20001 whose message names each of `names`, and no row moved."""
    path = path.format(**scene)
    before = snapshot(scene["router"], scene["ws"])
    response = scene["http"].request(method, path, **({"params": data} if method == "GET" else {"data": data}))
    assert response.status_code == 400, (method, path, data, response.status_code, response.text)
    body = response.json()
    assert body["code"] == 20001 and body["status"] == 400 and body["more_info"].startswith("https://"), body
    for name in names:
        assert name in body["message"], (name, body["message"])
    assert "Traceback" not in body["message"]
    assert snapshot(scene["router"], scene["ws"]) == before, f"{method} {path} {data} was refused but changed state"
    return body


STATISTICS = [
    "/v1/Workspaces/{ws}/Statistics",
    "/v1/Workspaces/{ws}/CumulativeStatistics",
    "/v1/Workspaces/{ws}/Workers/Statistics",
    "/v1/Workspaces/{ws}/Workers/CumulativeStatistics",
    "/v1/Workspaces/{ws}/Workers/{worker}/Statistics",
    "/v1/Workspaces/{ws}/TaskQueues/Statistics",
    "/v1/Workspaces/{ws}/TaskQueues/{queue}/Statistics",
    "/v1/Workspaces/{ws}/TaskQueues/{queue}/CumulativeStatistics",
    "/v1/Workspaces/{ws}/Workflows/{workflow}/Statistics",
    "/v1/Workspaces/{ws}/Workflows/{workflow}/CumulativeStatistics",
    "/v1/Workspaces/{ws}/Events",
]


@pytest.mark.parametrize("path", STATISTICS)
@pytest.mark.parametrize("minutes", [
    "99999999999999999999999",  # was OverflowError: Python int too large to convert to SQLite INTEGER
    "-5",  # was year -2057 is out of range (negative: the window started in the future)
    "99999999999",  # was year out of range: 190,000 years back
    "43201",  # one past 30 days
    "0",
])
def test_minutes_out_of_range_is_a_400_naming_minutes(scene, path, minutes):
    body = refused(scene, "GET", path, {"Minutes": minutes}, "Minutes", "between 1 and 43200")
    assert minutes[:20] in body["message"]


@pytest.mark.parametrize("path", STATISTICS)
def test_minutes_at_its_bounds_is_answered(scene, path):
    for minutes in (1, 43_200):
        response = scene["http"].get(path.format(**scene), params={"Minutes": minutes})
        assert response.status_code == 200, response.text


@pytest.mark.parametrize(("params", "names"), [
    ({"Page": "99999999999999999999999"}, ("Page",)),  # was a 500 on the Events list
    ({"Page": str(2**63)}, ("Page",)),
    ({"Page": str(2**63 - 1)}, ("Page", "PageSize")),  # fits alone, not times PageSize
    ({"Page": "-1"}, ("Page",)),
    ({"PageSize": "1001"}, ("PageSize", "between 1 and 1000")),
    ({"PageSize": str(-(2**63))}, ("PageSize",)),
    ({"PageToken": "PT" + "9" * 40}, ("PageToken",)),
])
@pytest.mark.parametrize("path", ["/v1/Workspaces/{ws}/Events", "/v1/Workspaces/{ws}/Workers",
                                  "/v1/Workspaces/{ws}/TaskQueues/Statistics"])
def test_pages_out_of_range_are_a_400_naming_the_parameter(scene, path, params, names):
    refused(scene, "GET", path, params, *names)


@pytest.mark.parametrize(("form", "names"), [
    ({"Priority": str(2**31)}, ("Priority", "between 0 and 2147483647")),
    ({"Priority": "-1"}, ("Priority",)),
    ({"Priority": str(2**63)}, ("Priority",)),
    ({"Timeout": "0"}, ("Timeout", "between 1 and 1209600")),
    ({"Timeout": "1209601"}, ("Timeout",)),
    ({"Timeout": HUGE}, ("Timeout",)),
    ({"Priority": "٣"}, ("Priority", "integer")),  # int() would read the Arabic-Indic three
    ({"Priority": "1_000"}, ("Priority", "integer")),
    ({"Priority": "9" * 5000}, ("Priority", "between")),  # past int()'s digit limit: still the range, no 500
])
def test_a_tasks_numbers_out_of_range(scene, form, names):
    refused(scene, "POST", "/v1/Workspaces/{ws}/Tasks",
            {"WorkflowSid": scene["workflow"], "Attributes": "{}", **form}, *names)
    if "Timeout" not in form:  # an update takes a Priority, not a Timeout
        refused(scene, "POST", "/v1/Workspaces/{ws}/Tasks/{task}", {"Attributes": "{}", **form}, *names)


@pytest.mark.parametrize(("path", "form", "names"), [
    ("/v1/Workspaces/{ws}/Workflows/{workflow}", {"TaskReservationTimeout": "86401"},
     ("TaskReservationTimeout", "between 1 and 86400")),
    ("/v1/Workspaces/{ws}/Workflows/{workflow}", {"TaskReservationTimeout": HUGE}, ("TaskReservationTimeout",)),
    ("/v1/Workspaces/{ws}/TaskQueues/{queue}", {"MaxReservedWorkers": "51"}, ("MaxReservedWorkers",)),
    ("/v1/Workspaces/{ws}/TaskQueues/{queue}", {"MaxReservedWorkers": str(-(2**63) - 1)}, ("MaxReservedWorkers",)),
    ("/v1/Workspaces/{ws}/Workers/{worker}/Channels/{channel}", {"Capacity": "51"}, ("Capacity", "between 0 and 50")),
    ("/v1/Workspaces/{ws}/Workers/{worker}/Channels/{channel}", {"Capacity": HUGE}, ("Capacity",)),
])
def test_a_bodys_numbers_out_of_range(scene, path, form, names):
    refused(scene, "POST", path, form, *names)


@pytest.mark.parametrize("split", ["30,99999999999999999999", "-1", "30,,60", "¹"])
def test_split_by_wait_time_out_of_range(scene, split):
    refused(scene, "GET", "/v1/Workspaces/{ws}/CumulativeStatistics", {"SplitByWaitTime": split}, "SplitByWaitTime")


@pytest.mark.parametrize("seconds", [str(2**63), HUGE, "-1"])
def test_advancing_the_clock_out_of_range(scene, seconds):
    refused(scene, "POST", "/_local/Clock", {"AdvanceSeconds": seconds}, "AdvanceSeconds")


@pytest.mark.parametrize("path", STATISTICS[:2] + STATISTICS[-1:])
def test_dates_at_the_ends_of_datetime(scene, path):
    """EndDate 0001-01-01 minus the default 15 minutes was before year 1 (a 500 rendering start_time); the
    window now starts at the first representable instant. 9999-12-31 is a date like any other."""
    http, path = scene["http"], path.format(**scene)
    first = http.get(path, params={"EndDate": "0001-01-01T00:00:00Z"})
    assert first.status_code == 200, first.text
    last = http.get(path, params={"StartDate": "2020-01-01", "EndDate": "9999-12-31T23:59:59Z"})
    assert last.status_code == 200, last.text
    if "Events" not in path:
        assert first.json().get("start_time", "0001-01-01T00:00:00Z") == "0001-01-01T00:00:00Z"
        assert last.json().get("end_time", "9999-12-31T23:59:59Z") == "9999-12-31T23:59:59Z"
    refused(scene, "GET", path, {"EndDate": "9999-12-31T23:59:59-01:00"}, "EndDate")  # year 10000 in UTC
    refused(scene, "GET", path, {"StartDate": "0000-12-31T23:59:59Z"}, "StartDate")


def test_the_reader_refuses_what_int_would_take():
    within = Range(0, 100)
    assert integer("N", "+7", within) == 7 and integer("N", "007", within) == 7
    assert integer("N", "", within, default=3) == 3 and integer("N", None, within) is None
    for text in (" 7", "7 ", "7\n", "٧", "7_0", "0x7", "7.0", "1e2"):
        with pytest.raises(InvalidParameter, match="N must be an integer between 0 and 100"):
            integer("N", text, within)
    with pytest.raises(InvalidParameter, match=r"N must be between 0 and 100, got 10000000000000000000\.\.\."):
        integer("N", "1" + "0" * 5000, within)
    with pytest.raises(InvalidParameter, match="Minutes must be between 1 and 43200 minutes, got 43201"):
        MINUTES.check(43_201, "Minutes")
