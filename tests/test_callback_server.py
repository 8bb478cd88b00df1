import socket

import pytest
import requests
from flask import Flask, jsonify
from twilio.request_validator import RequestValidator

from tutorial_helpers.callback_server import (
    CallbackLog,
    CallbackServer,
    protect,
    start_callback_server,
)
from tutorial_helpers.settings import Settings

TOKEN = "test-auth-token"
SID = "AC" + "ab" * 16
PARAMS = {"TaskSid": "WT" + "0" * 32, "ReservationSid": "WR" + "1" * 32, "TaskAge": "3"}
SETTINGS = Settings("local", SID, TOKEN)


def sign(url, params=None, token=TOKEN):
    return RequestValidator(token).compute_signature(url, params or {})


def make_app(answer="accept"):
    app = Flask(__name__)
    app.calls = 0

    @app.route("/assignment_callback", methods=["GET", "POST"])
    def assignment_callback():
        app.calls += 1
        return jsonify({"instruction": answer})

    return app


@pytest.fixture
def client_and_log():
    app, log = make_app(), CallbackLog()
    protect(app, TOKEN, log=log)
    return app, app.test_client(), log


pytestmark = pytest.mark.usefixtures("no_callback_server_left")


def test_signed_post_reaches_the_route(client_and_log):
    app, client, log = client_and_log
    url = "http://localhost/assignment_callback"
    response = client.post(url, data=PARAMS, headers={"X-Twilio-Signature": sign(url, PARAMS)})
    assert response.status_code == 200
    assert response.get_json() == {"instruction": "accept"}
    assert app.calls == 1
    entry = log.last("/assignment_callback")
    assert entry.signature_valid and entry.status == 200
    assert entry.params == PARAMS
    assert entry.content_type == "application/json"
    assert '"instruction"' in entry.body


@pytest.mark.parametrize("signature", [None, "forged", sign("http://localhost/other", PARAMS)])
def test_unsigned_or_forged_post_is_refused_before_the_route(client_and_log, signature):
    app, client, log = client_and_log
    headers = {"X-Twilio-Signature": signature} if signature else {}
    response = client.post("/assignment_callback", data=PARAMS, headers=headers)
    assert response.status_code == 403
    assert "X-Twilio-Signature" in response.get_json()["error"]
    assert app.calls == 0
    entry = log.last()
    assert not entry.signature_valid and entry.status == 403 and entry.params == PARAMS


def test_tampered_params_are_refused(client_and_log):
    app, client, _ = client_and_log
    url = "http://localhost/assignment_callback"
    headers = {"X-Twilio-Signature": sign(url, PARAMS)}
    response = client.post(url, data={**PARAMS, "TaskAge": "999"}, headers=headers)
    assert response.status_code == 403 and app.calls == 0


def test_signed_get_uses_the_query_string(client_and_log):
    app, client, log = client_and_log
    url = "http://localhost/assignment_callback?TaskSid=WT1"
    assert client.get(url, headers={"X-Twilio-Signature": sign(url)}).status_code == 200
    assert log.last().params == {"TaskSid": "WT1"} and app.calls == 1


def test_public_base_url_is_what_gets_validated():
    app, log = make_app(), CallbackLog()
    protect(app, TOKEN, "https://abc.ngrok-free.app", log=log)
    public = "https://abc.ngrok-free.app/assignment_callback"
    headers = {"X-Twilio-Signature": sign(public, PARAMS)}
    assert app.test_client().post("/assignment_callback", data=PARAMS,
                                  headers=headers).status_code == 200


def test_log_is_bounded_and_listeners_are_isolated(client_and_log):
    _, client, log = client_and_log
    seen = []

    def broken(entry):
        raise RuntimeError("widget bug")

    log.subscribe(broken)
    log.subscribe(seen.append)
    assert client.post("/assignment_callback", data=PARAMS).status_code == 403
    log.unsubscribe(seen.append)
    client.post("/assignment_callback", data=PARAMS)
    assert len(seen) == 1 and len(log.entries()) == 2
    log.clear()
    assert log.last() is None

    small = CallbackLog(maxlen=3)
    for _ in range(5):
        small.append(seen[0])
    assert len(small) == 3


def test_token_never_reaches_the_log(client_and_log):
    _, client, log = client_and_log
    url = "http://localhost/assignment_callback"
    client.post(url, data=PARAMS, headers={"X-Twilio-Signature": sign(url, PARAMS)})
    assert TOKEN not in repr(log.entries())


def post_signed(server, params=PARAMS):
    url = server.url_for("/assignment_callback")
    headers = {"X-Twilio-Signature": sign(url, params)}
    return requests.post(url, data=params, headers=headers, timeout=5)


def test_real_socket_swaps_the_app_and_stop_frees_the_port():
    first = start_callback_server(make_app("accept"), SETTINGS)
    assert first.local_url == first.public_url == f"http://127.0.0.1:{first.port}"
    assert post_signed(first).json() == {"instruction": "accept"}

    second = start_callback_server(make_app("reject"), SETTINGS)
    assert second is first and CallbackServer.current() is first
    assert post_signed(second).json() == {"instruction": "reject"}
    unsigned = requests.post(second.url_for("assignment_callback"), data=PARAMS, timeout=5)
    assert unsigned.status_code == 403
    assert [e.signature_valid for e in second.log.entries()] == [True, True, False]

    port = second.port
    second.stop()
    assert CallbackServer.current() is None and not second.running
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))  # would fail if our listener were still open
        sock.listen()


def test_app_exception_is_logged_not_printed(capfd):
    def broken(environ, start_response):
        raise ValueError("learner bug")

    server = start_callback_server(broken, SETTINGS)
    response = post_signed(server)
    assert response.status_code == 500
    assert "ValueError: learner bug" in server.log.last().errors
    assert capfd.readouterr().err == ""
