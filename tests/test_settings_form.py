"""Notebook 00's settings form: writes the git-ignored .env, never shows a secret, says the way back."""

import stat

import pytest

from tutorial_helpers.settings import load_settings
from tutorial_helpers.settings_form import settings_form

SID = "AC" + "1234abcd" * 4
TOKEN = "form-secret-token"
NGROK = "form-secret-ngrok"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in ("TUTORIAL_MODE", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "NGROK_AUTHTOKEN"):
        monkeypatch.delenv(name, raising=False)


def fill(form, sid=SID, token=TOKEN, ngrok=NGROK):
    form.mode.value = "twilio"
    form.fields["TWILIO_ACCOUNT_SID"].value = sid
    form.fields["TWILIO_AUTH_TOKEN"].value = token
    form.fields["NGROK_AUTHTOKEN"].value = ngrok


def test_twilio_mode_is_saved_for_load_settings_and_no_secret_is_shown(tmp_path):
    env = tmp_path / ".env"
    env.write_text("# mine\nOTHER=kept\n")
    form = settings_form(env)
    assert form.mode.value == "local" and form._twilio_box.layout.display == "none"
    fill(form)
    assert form._twilio_box.layout.display == "flex"
    form.save.click()
    settings = load_settings(env_file=env, prompt=False)
    assert (settings.mode, settings.account_sid, settings.auth_token, settings.ngrok_authtoken) == (
        "twilio", SID, TOKEN, NGROK)
    assert "OTHER=kept" in env.read_text() and "# mine" in env.read_text()
    shown = form.message.value + "".join(f.value + f.placeholder for f in form.fields.values())
    assert TOKEN not in shown and NGROK not in shown and SID not in shown
    assert "TWILIO_AUTH_TOKEN (hidden)" in form.message.value and "Restart the kernel" in form.message.value
    assert "To go back to local mode later: choose local here, Save" in form.message.value
    assert form.fields["TWILIO_AUTH_TOKEN"].placeholder == "set in .env: leave empty to keep it"


def test_back_to_local_keeps_the_credentials_for_later(tmp_path):
    env = tmp_path / ".env"
    form = settings_form(env)
    fill(form)
    form.save.click()
    again = settings_form(env)
    assert again.mode.value == "twilio"
    again.mode.value = "local"
    again.save.click()
    assert load_settings(env_file=env, prompt=False).mode == "local"
    assert TOKEN in env.read_text()  # switching back is one Save away


def test_a_new_env_file_is_private(tmp_path):
    env = tmp_path / ".env"
    form = settings_form(env)
    fill(form)
    form.save.click()
    assert stat.S_IMODE(env.stat().st_mode) == 0o600


@pytest.mark.parametrize(("sid", "token", "words"), [
    (SID, "", "Twilio mode needs TWILIO_AUTH_TOKEN"),
    ("AC123", TOKEN, "must be &#x27;AC&#x27; followed by 32 hex digits"),
])
def test_a_bad_form_saves_nothing_and_says_what_to_fix(tmp_path, sid, token, words):
    env = tmp_path / ".env"
    form = settings_form(env)
    fill(form, sid=sid, token=token)
    form.save.click()
    assert words in form.message.value and "Nothing was saved" in form.message.value
    assert not env.exists()
    assert form.fields["TWILIO_AUTH_TOKEN"].value == token  # what was typed stays to be corrected


def test_the_environment_winning_over_env_is_said(tmp_path, monkeypatch):
    monkeypatch.setenv("TUTORIAL_MODE", "local")
    form = settings_form(tmp_path / ".env")
    fill(form)
    form.save.click()
    assert "TUTORIAL_MODE is also set in the environment" in form.message.value
