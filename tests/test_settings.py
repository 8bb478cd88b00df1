import pytest

from tutorial_helpers import settings as settings_module
from tutorial_helpers.local_twilio.defaults import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, default_credentials
from tutorial_helpers.settings import Settings, SettingsError, load_settings

SID = "AC" + "0123456789abcdef" * 2
TOKEN = "f" * 32
NGROK = "2abcNgrokToken_secret"
VARIABLES = (
    "TUTORIAL_MODE",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "NGROK_AUTHTOKEN",
    "LOCAL_TASKROUTER_URL",
    "LOCAL_TASKROUTER_PORT",
    "LOCAL_TASKROUTER_AUTH_TOKEN",
    "TWILIO_API_BASE_URL",
    "NGROK_PATH",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    """No ambient credentials, and no .env from the cwd or the repo root."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(settings_module, "REPO_ROOT", tmp_path / "no-repo")


def write_env(tmp_path, **values):
    path = tmp_path / "tutorial.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))
    return path


def test_local_is_the_default():
    s = load_settings()
    assert s == Settings("local", DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN, None, s.local_base_url)
    assert s.local_base_url == "http://127.0.0.1:8765"
    assert s.ngrok_authtoken is None


def test_local_url_override(monkeypatch):
    monkeypatch.setenv("LOCAL_TASKROUTER_URL", "http://127.0.0.1:9999/")
    s = load_settings()
    assert s.local_base_url == s.taskrouter_url == "http://127.0.0.1:9999"


def test_the_learners_own_server_is_on_their_port_and_any_other_url_is_chosen(monkeypatch):
    """LOCAL_TASKROUTER_PORT (`make lab` passes its own) is where the learner's own server runs; what answers there
    must be theirs. Another LOCAL_TASKROUTER_URL was set on purpose (a workshop room's server, a test's)."""
    assert load_settings().own_local_server
    monkeypatch.setenv("LOCAL_TASKROUTER_PORT", "8766")
    s = load_settings()
    assert s.local_base_url == "http://127.0.0.1:8766" and s.own_local_server
    for url, own in [("http://localhost:8766", True), ("http://127.0.0.1:8765", False),
                     ("http://192.0.2.1:8766", False)]:
        monkeypatch.setenv("LOCAL_TASKROUTER_URL", url)
        assert load_settings().own_local_server is own, url
    monkeypatch.setenv("LOCAL_TASKROUTER_PORT", "eighty")
    with pytest.raises(SettingsError, match="LOCAL_TASKROUTER_PORT must be a port number like 8766; got 'eighty'"):
        load_settings()


def test_local_mode_uses_exactly_the_local_servers_credentials(monkeypatch, tmp_path):
    # The server reads TWILIO_* from its environment (never .env); so must local mode.
    (tmp_path / ".env").write_text(f"TWILIO_ACCOUNT_SID={SID}\nTWILIO_AUTH_TOKEN=from-dot-env\n")
    monkeypatch.setenv("LOCAL_TASKROUTER_AUTH_TOKEN", "ignored")
    s = load_settings("local")
    assert (s.account_sid, s.auth_token) == default_credentials() == (DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)

    monkeypatch.setenv("TWILIO_ACCOUNT_SID", SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    s = load_settings("local")
    assert (s.account_sid, s.auth_token) == default_credentials() == (SID, TOKEN)
    assert s.taskrouter_url == "http://127.0.0.1:8765"


def test_twilio_mode_talks_to_twilio():
    assert Settings("twilio", SID, TOKEN, NGROK).taskrouter_url == "https://taskrouter.twilio.com"


def test_twilio_mode_names_every_missing_variable(monkeypatch):
    monkeypatch.setenv("TUTORIAL_MODE", "twilio")
    with pytest.raises(SettingsError) as err:
        load_settings(prompt=False)
    message = str(err.value)
    for name in ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "NGROK_AUTHTOKEN"):
        assert name in message
    assert ".env" in message


def test_only_the_missing_variable_is_named(monkeypatch):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", SID)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    with pytest.raises(SettingsError) as err:
        load_settings("twilio", prompt=False)
    assert "NGROK_AUTHTOKEN" in str(err.value)
    assert "TWILIO_AUTH_TOKEN" not in str(err.value)


def test_env_file_values_are_loaded(tmp_path):
    env = write_env(
        tmp_path, TUTORIAL_MODE="twilio", TWILIO_ACCOUNT_SID=SID,
        TWILIO_AUTH_TOKEN=TOKEN, NGROK_AUTHTOKEN=NGROK,
    )
    s = load_settings(env_file=env, prompt=False)
    assert (s.mode, s.account_sid, s.auth_token, s.ngrok_authtoken) == ("twilio", SID, TOKEN, NGROK)


def test_dot_env_in_current_directory_is_found(tmp_path):
    (tmp_path / ".env").write_text(f"TWILIO_ACCOUNT_SID={SID}\nTWILIO_AUTH_TOKEN={TOKEN}\n"
                                   f"NGROK_AUTHTOKEN={NGROK}\n")
    assert load_settings("twilio", prompt=False).account_sid == SID


def test_environment_wins_over_env_file(tmp_path, monkeypatch):
    env = write_env(tmp_path, TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN="from-file",
                    NGROK_AUTHTOKEN=NGROK)
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "from-environment")
    assert load_settings("twilio", env_file=env, prompt=False).auth_token == "from-environment"


def test_ngrok_path_in_dot_env_is_ignored(tmp_path, monkeypatch):
    """NGROK_PATH counts from .env as from the environment (which wins), like every other setting."""
    env = write_env(tmp_path, TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN=TOKEN, NGROK_AUTHTOKEN=NGROK,
                    NGROK_PATH="/opt/ngrok/ngrok")
    assert load_settings("twilio", env_file=env, prompt=False).ngrok_path == "/opt/ngrok/ngrok"
    monkeypatch.setenv("NGROK_PATH", "/usr/local/bin/ngrok")
    assert load_settings("twilio", env_file=env, prompt=False).ngrok_path == "/usr/local/bin/ngrok"
    # Not set anywhere: None (the tunnel then looks where pyngrok is configured, then on PATH).
    monkeypatch.delenv("NGROK_PATH")
    bare = write_env(tmp_path, TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN=TOKEN, NGROK_AUTHTOKEN=NGROK)
    assert load_settings("twilio", env_file=bare, prompt=False).ngrok_path is None


def test_example_placeholders_count_as_missing(tmp_path):
    example = settings_module.Path(__file__).resolve().parent.parent / ".env.example"
    env = tmp_path / ".env"
    env.write_text(example.read_text())
    with pytest.raises(SettingsError) as err:
        load_settings("twilio", env_file=env, prompt=False)
    assert "TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and NGROK_AUTHTOKEN" in str(err.value)


def test_prompt_asks_for_missing_values(monkeypatch):
    answers = {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN, "NGROK_AUTHTOKEN": NGROK}
    monkeypatch.setattr(settings_module.getpass, "getpass",
                        lambda prompt: answers[prompt.split()[0]])
    assert load_settings("twilio", prompt=True).ngrok_authtoken == NGROK


def test_bad_sid_shape_is_explained_without_echoing_it(monkeypatch):
    monkeypatch.setenv("TWILIO_ACCOUNT_SID", TOKEN)  # a token pasted into the wrong variable
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("NGROK_AUTHTOKEN", NGROK)
    with pytest.raises(SettingsError) as err:
        load_settings("twilio", prompt=False)
    assert "TWILIO_ACCOUNT_SID" in str(err.value) and "32 hex" in str(err.value)
    assert TOKEN not in str(err.value)


def test_repr_and_describe_never_show_tokens():
    s = Settings("twilio", SID, TOKEN, NGROK)
    for text in (repr(s), str(s), s.describe()):
        assert TOKEN not in text and NGROK not in text
    assert s.describe() == "twilio mode: account AC01…cdef, callback exposed through ngrok"
    assert DEFAULT_AUTH_TOKEN not in load_settings().describe()


def test_unknown_mode():
    with pytest.raises(SettingsError, match="'cloud'.*'local', 'twilio'"):
        load_settings("cloud")
    assert issubclass(SettingsError, ValueError)


def test_errors_render_as_one_line_in_ipython():
    error = SettingsError("Twilio mode needs NGROK_AUTHTOKEN.")
    assert error._render_traceback_() == ["SettingsError: Twilio mode needs NGROK_AUTHTOKEN."]


def test_missing_env_file_is_an_error(tmp_path):
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(env_file=tmp_path / "nope.env")


def test_a_stand_in_for_twilio_is_a_testing_only_twilio_mode_setting(tmp_path, monkeypatch):
    env = write_env(tmp_path, TUTORIAL_MODE="twilio", TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN=TOKEN,
                    NGROK_AUTHTOKEN=NGROK, TWILIO_API_BASE_URL="http://127.0.0.1:8766/")
    s = load_settings(env_file=env, prompt=False)
    assert (s.mode, s.twilio_base_url, s.taskrouter_url) == ("twilio", "http://127.0.0.1:8766", "http://127.0.0.1:8766")
    assert s.ngrok_authtoken == NGROK  # the rest stays the twilio path: the tunnel is still needed
    assert "stand-in at http://127.0.0.1:8766 (TWILIO_API_BASE_URL), not to Twilio" in s.describe()
    assert TOKEN not in s.describe() and NGROK not in s.describe()
    # Unset, it is Twilio itself; local mode ignores it (LOCAL_TASKROUTER_URL is local mode's).
    assert load_settings("twilio", env_file=write_env(tmp_path, TWILIO_ACCOUNT_SID=SID, TWILIO_AUTH_TOKEN=TOKEN,
                                                      NGROK_AUTHTOKEN=NGROK)).twilio_base_url is None
    monkeypatch.setenv("TWILIO_API_BASE_URL", "http://127.0.0.1:8766")
    local = load_settings("local")
    assert local.twilio_base_url is None and local.taskrouter_url == "http://127.0.0.1:8765"


@pytest.mark.parametrize("url", ["127.0.0.1:8766", "ftp://127.0.0.1", "http://127.0.0.1:8766/v1", "http://"])
def test_a_stand_in_url_must_be_a_base_url(monkeypatch, url):
    for name, value in {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": TOKEN, "NGROK_AUTHTOKEN": NGROK,
                        "TWILIO_API_BASE_URL": url}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match="TWILIO_API_BASE_URL must be a base URL") as err:
        load_settings("twilio", prompt=False)
    assert "remove it" in str(err.value) and TOKEN not in str(err.value)


def test_one_value_is_read_like_every_setting_or_from_the_environment_alone(tmp_path, monkeypatch):
    """read_setting: the environment, else the .env file (a helper's value, like notebook 05's phone number);
    from_environment: the environment only (what JupyterLab's kernels inherit, what overrides .env)."""
    monkeypatch.delenv("ALICE_PHONE_NUMBER", raising=False)
    (tmp_path / ".env").write_text("ALICE_PHONE_NUMBER=+15551234567\nTWILIO_AUTH_TOKEN=your_auth_token\n")
    assert settings_module.read_setting("ALICE_PHONE_NUMBER") == "+15551234567"
    assert settings_module.from_environment("ALICE_PHONE_NUMBER") is None
    assert settings_module.read_setting("TWILIO_AUTH_TOKEN") is None  # .env.example's placeholder is no value
    monkeypatch.setenv("ALICE_PHONE_NUMBER", " +15559876543 ")
    assert settings_module.read_setting("ALICE_PHONE_NUMBER") == "+15559876543"
    assert settings_module.from_environment("ALICE_PHONE_NUMBER") == " +15559876543 "
    monkeypatch.setenv("ALICE_PHONE_NUMBER", "")
    assert settings_module.from_environment("ALICE_PHONE_NUMBER") is None
