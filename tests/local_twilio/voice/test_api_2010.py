"""The 2010-04-01 API pieces of the local voice side, through the official SDK and raw HTTP, every answer
checked against the facts-only contract (tests/contracts/api_v2010.json)."""

import pytest
import requests
from api_2010_contract import CONTRACT, check, route
from twilio.base.exceptions import TwilioRestException

from tutorial_helpers.local_twilio import LocalTaskRouter
from tutorial_helpers.local_twilio.voice.urls import URLS


class Wire:
    """Raw HTTP to the local server; every answer is checked against the 2010 contract."""

    def __init__(self, tr: LocalTaskRouter):
        self.tr = tr
        self.session = requests.Session()
        self.session.auth = (tr.account_sid, tr.auth_token)
        self.seen: set[tuple[str, str]] = set()
        # A literal segment beats a placeholder, as in test_wire.py.
        self.routes = sorted((route(t) for t in CONTRACT["paths"]), key=lambda r: -r[0])

    def call(self, method: str, path: str, data=None, status: int = 200) -> dict:
        response = self.session.request(method, self.tr.base_url + path, data=data, timeout=10)
        assert response.status_code == status, (method, path, response.status_code, response.text)
        template = next(t for _n, pattern, t in self.routes if pattern.match(path.split("?")[0]))
        codes = CONTRACT["paths"][template][method.lower()]
        assert str(status) in codes, (method, template, status, sorted(codes))
        self.seen.add((method, template))
        schema = codes[str(status)]
        if schema is None:
            assert response.content == b""
            return {}
        body = response.json()
        check(schema, body, f"{method} {path}")
        return body


@pytest.fixture
def wire(taskrouter):
    w = Wire(taskrouter)
    yield w
    w.session.close()


def test_every_2010_answer_matches_the_contract(wire, taskrouter):
    account = f"/2010-04-01/Accounts/{taskrouter.account_sid}"
    c = wire.call
    numbers = c("GET", f"{account}/IncomingPhoneNumbers.json")["incoming_phone_numbers"]
    assert [n["phone_number"] for n in numbers] == ["+12025550100", "+12025550101", "+12025550102"]
    first = numbers[0]["sid"]
    c("GET", f"{account}/IncomingPhoneNumbers.json?PhoneNumber=%2B12025550100")
    c("GET", f"{account}/IncomingPhoneNumbers/{first}.json")
    updated = c("POST", f"{account}/IncomingPhoneNumbers/{first}.json",
                {"VoiceUrl": "http://127.0.0.1:9/incoming_call", "VoiceMethod": "GET"})
    assert (updated["voice_url"], updated["voice_method"]) == ("http://127.0.0.1:9/incoming_call", "GET")
    bought = c("POST", f"{account}/IncomingPhoneNumbers.json", {"AreaCode": "415"}, status=201)
    assert bought["phone_number"] == "+14155550100" and bought["friendly_name"] == "(415) 555-0100"
    chosen = c("POST", f"{account}/IncomingPhoneNumbers.json", {"PhoneNumber": "+4420 7946 0000"}, status=201)
    assert chosen["phone_number"] == "+442079460000"
    c("DELETE", f"{account}/IncomingPhoneNumbers/{chosen['sid']}.json", status=204)
    key = c("POST", f"{account}/Keys.json", {"FriendlyName": "worker page"}, status=201)
    assert key["secret"] and key["sid"].startswith("SK")
    c("GET", f"{account}/Keys.json")
    fetched = c("GET", f"{account}/Keys/{key['sid']}.json")
    assert "secret" not in fetched  # shown once, when the key is made
    c("POST", f"{account}/Keys/{key['sid']}.json", {"FriendlyName": "renamed"})
    c("DELETE", f"{account}/Keys/{key['sid']}.json", status=204)
    call = c("POST", f"{account}/Calls.json", {"To": "+12025550101", "From": "+15551230000",
                                               "Twiml": "<Response><Pause length='60'/></Response>"}, status=201)
    assert (call["direction"], call["status"]) == ("outbound-api", "queued")
    c("GET", f"{account}/Calls.json")
    c("GET", f"{account}/Calls/{call['sid']}.json")
    ended = c("POST", f"{account}/Calls/{call['sid']}.json", {"Status": "completed"})
    assert ended["status"] in ("completed", "canceled")
    queue = c("POST", f"{account}/Queues.json", {"FriendlyName": "support", "MaxSize": "10"}, status=201)
    assert (queue["current_size"], queue["max_size"], queue["average_wait_time"]) == (0, 10, 0)
    c("GET", f"{account}/Queues.json")
    c("GET", f"{account}/Queues/{queue['sid']}.json")
    assert c("POST", f"{account}/Queues/{queue['sid']}.json", {"MaxSize": "20"})["max_size"] == 20
    c("DELETE", f"{account}/Queues/{queue['sid']}.json", status=204)
    served = {(m, rule) for rule, methods, _h in URLS for m in methods if rule.startswith("/2010-04-01/")}
    assert len(wire.seen) == len(served), "every 2010 operation the server has was checked"


def test_the_quickstart_finds_its_number_and_points_it_at_the_app(client):
    """Twilio's part 3, step 1, as the notebook writes it."""
    number = client.incoming_phone_numbers.list(phone_number="+12025550100")[0]
    number = number.update(voice_url="http://127.0.0.1:5000/incoming_call")
    assert (number.phone_number, number.voice_url, number.voice_method) == (
        "+12025550100", "http://127.0.0.1:5000/incoming_call", "POST")
    assert client.incoming_phone_numbers(number.sid).fetch().voice_url == "http://127.0.0.1:5000/incoming_call"
    assert len(client.incoming_phone_numbers.list(page_size=2)) == 3  # the SDK follows next_page_uri


def test_api_keys_through_the_sdk(client):
    made = client.new_keys.create(friendly_name="worker page")
    assert made.secret and len(made.secret) >= 24
    assert [k.sid for k in client.keys.list()] == [made.sid]
    assert client.keys(made.sid).update(friendly_name="renamed").friendly_name == "renamed"
    client.keys(made.sid).delete()
    assert client.keys.list() == []


@pytest.mark.parametrize(("path", "form", "words"), [
    ("IncomingPhoneNumbers/{first}.json", {"VoiceUrl": "not a url"}, "VoiceUrl must be an absolute http(s) URL"),
    ("IncomingPhoneNumbers/{first}.json", {"VoiceUrl": "http://exa mple.com/"}, "VoiceUrl must be an absolute"),
    ("IncomingPhoneNumbers/{first}.json", {"VoiceMethod": "PUT"}, "VoiceMethod must be GET or POST"),
    ("IncomingPhoneNumbers/{first}.json", {"FriendlyName": "x" * 65}, "FriendlyName is longer than 64"),
    ("IncomingPhoneNumbers.json", {"PhoneNumber": "123"}, "PhoneNumber must be E.164"),
    ("IncomingPhoneNumbers.json", {"PhoneNumber": "+12025550101"}, "already in use"),
    ("IncomingPhoneNumbers.json", {}, "PhoneNumber or AreaCode is required"),
    ("IncomingPhoneNumbers.json", {"AreaCode": "12"}, "AreaCode must be three digits"),
    ("Keys.json", {"FriendlyName": "k" * 65}, "FriendlyName is longer than 64"),
    ("Queues.json", {}, "FriendlyName is required"),
    ("Queues.json", {"FriendlyName": "q", "MaxSize": "0"}, "MaxSize must be between 1 and 5000"),
])
def test_bad_values_are_400_and_change_nothing(taskrouter, client, path, form, words):
    first = client.incoming_phone_numbers.list(phone_number="+12025550100")[0].sid
    before = ([n.voice_url for n in client.incoming_phone_numbers.list()], len(client.keys.list()))
    url = f"{taskrouter.base_url}/2010-04-01/Accounts/{taskrouter.account_sid}/{path.format(first=first)}"
    answer = requests.post(url, data=form, auth=(taskrouter.account_sid, taskrouter.auth_token), timeout=10)
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert set(body) == {"code", "message", "more_info", "status"} and words in body["message"]
    assert ([n.voice_url for n in client.incoming_phone_numbers.list()], len(client.keys.list())) == before


# URLs the voice side's old regex let through, which TaskRouter's callback URLs refuse (one rule: core/validators).
LAX_URLS = [
    "http://example.com:99999/incoming_call",  # no such port
    "http://example.com/" + "a" * 3000,  # longer than 2048 characters
    "http://example.com/\x7fincoming_call",  # unprintable
    "http://exa\u200bmple.com/incoming_call",  # a zero-width space in the host
    "http://[::1/incoming_call",  # a broken IPv6 host
    "http://exa*mple.com/incoming_call",
]


@pytest.mark.parametrize("url", LAX_URLS, ids=lambda u: u[:30])
def test_voice_urls_have_a_laxer_validator_than_taskrouters(client, url):
    """One rule for a webhook URL in both APIs, each refusal naming its parameter (400, 20001)."""
    with pytest.raises(TwilioRestException) as taskrouter_said:
        client.taskrouter.v1.workspaces.create(friendly_name="Hooked", event_callback_url=url)
    number = client.incoming_phone_numbers.list(phone_number="+12025550100")[0]
    with pytest.raises(TwilioRestException) as voice_said:
        number.update(voice_url=url)
    assert (voice_said.value.status, voice_said.value.code) == (400, 20001)
    assert _message(voice_said) == _message(taskrouter_said).replace("EventCallbackUrl", "VoiceUrl")
    assert client.incoming_phone_numbers(number.sid).fetch().voice_url == number.voice_url
    with pytest.raises(TwilioRestException) as call_said:
        client.calls.create(to="+12025550100", from_="+15551230000", url=url)
    assert (call_said.value.status, call_said.value.code) == (400, 20001)
    assert _message(call_said) == _message(taskrouter_said).replace("EventCallbackUrl", "Url")
    assert client.calls.list() == []


def _message(refused: pytest.ExceptionInfo) -> str:
    """The server's message, without the SDK's "Unable to create record: " in front."""
    return refused.value.msg.split("record: ", 1)[1]


def test_another_accounts_numbers_are_not_found(taskrouter):
    other = "AC" + "b" * 32
    answer = requests.get(f"{taskrouter.base_url}/2010-04-01/Accounts/{other}/IncomingPhoneNumbers.json",
                          auth=(taskrouter.account_sid, taskrouter.auth_token), timeout=10)
    assert answer.status_code == 404 and answer.json()["code"] == 20404
    unauthenticated = requests.get(
        f"{taskrouter.base_url}/2010-04-01/Accounts/{taskrouter.account_sid}/Keys.json", timeout=10)
    assert unauthenticated.status_code == 401


def test_numbers_and_keys_survive_a_restart(tmp_path):
    with LocalTaskRouter(data_dir=tmp_path) as tr:
        client = tr.client()
        number = client.incoming_phone_numbers.list()[0].update(voice_url="http://127.0.0.1:5000/incoming_call")
        key = client.new_keys.create()
    with LocalTaskRouter(data_dir=tmp_path) as tr:
        client = tr.client()
        assert len(client.incoming_phone_numbers.list()) == 3  # not seeded twice
        assert client.incoming_phone_numbers(number.sid).fetch().voice_url == "http://127.0.0.1:5000/incoming_call"
        assert [k.sid for k in client.keys.list()] == [key.sid]
        assert tr.voice.key_secret(tr.account_sid, key.sid) == key.secret


def test_local_numbers_are_configurable(tmp_path):
    with LocalTaskRouter(data_dir=tmp_path, phone_numbers=("+15005550006",)) as tr:
        assert [n.phone_number for n in tr.client().incoming_phone_numbers.list()] == ["+15005550006"]
    with pytest.raises(ValueError, match="E.164"):
        LocalTaskRouter(data_dir=tmp_path / "bad", phone_numbers=("555",)).start()


def test_sdk_errors_carry_twilios_codes(client):
    with pytest.raises(TwilioRestException) as missing:
        client.incoming_phone_numbers("PN" + "0" * 32).fetch()
    assert (missing.value.status, missing.value.code) == (404, 20404)
