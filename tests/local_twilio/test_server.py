"""The server itself (server.py), below every API: request lines it cannot parse, OPTIONS, huge bodies, and the
URL rules whose builders are compiled late. The first tests are named after the defect (issue 15) each keeps fixed."""

import json
import socket
import time

import pytest
import requests


def raw_exchange(taskrouter, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", taskrouter.port), timeout=10) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return answer


def status_and_body(answer: bytes) -> tuple[int, dict]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    assert b"Content-Type: application/json" in head, head
    return status, json.loads(body)


@pytest.mark.parametrize(("request_line", "status"), [
    (b"GARBAGE\r\n\r\n", 400),
    (b"GET /v1/Workspaces HTTP/9.9\r\n\r\n", 400),
    (b"GET /v1/Workspaces?q=" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
], ids=["garbage", "http-9.9", "70-kb-request-line"])
def test_defect_a_malformed_request_line_gets_a_twilio_shaped_answer(taskrouter, request_line, status):
    got, body = status_and_body(raw_exchange(taskrouter, request_line))
    assert got == status and body["status"] == status
    assert set(body) == {"code", "message", "more_info", "status"} and body["message"]
    # ... and the server keeps serving.
    assert requests.get(taskrouter.base_url + "/_local/health", timeout=5).status_code == 200


def test_defect_options_on_an_api_path_is_a_twilio_405(taskrouter):
    answer = requests.options(taskrouter.base_url + "/v1/Workspaces",
                              auth=(taskrouter.account_sid, taskrouter.auth_token), timeout=5)
    assert answer.status_code == 405 and answer.headers["Content-Type"] == "application/json"
    assert answer.json()["code"] == 20004


def test_a_10_mb_body_is_refused_with_413_from_its_length(taskrouter, client):
    started = time.monotonic()
    answer = requests.post(taskrouter.base_url + "/v1/Workspaces", data=b"FriendlyName=" + b"a" * 10_000_000,
                           auth=(taskrouter.account_sid, taskrouter.auth_token), timeout=30,
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 413 and answer.json()["status"] == 413
    assert time.monotonic() - started < 10
    assert client.taskrouter.v1.workspaces.list() == []  # nothing was made


def test_urls_still_build_from_the_rules_whose_builders_are_compiled_late(taskrouter):
    """The app puts off compiling werkzeug's URL builders until one is used (start-up time); when one is, it
    builds the URL the rule describes, with and without extra values, and routes it back to the same view."""
    from flask import url_for

    app = taskrouter.app
    with app.test_request_context():
        assert url_for("taskrouter.fetch_workspace", sid="WS1") == "/v1/Workspaces/WS1"
        assert url_for("taskrouter.fetch_workspace", sid="WS1", PageSize=5) == "/v1/Workspaces/WS1?PageSize=5"
        assert url_for("taskrouter.fetch_workspace", sid="WS2") == "/v1/Workspaces/WS2"  # compiled once, reused
    endpoint, values = app.url_map.bind("localhost").match("/v1/Workspaces/WS1", "GET")
    assert (endpoint, values) == ("taskrouter.fetch_workspace", {"sid": "WS1"})
