"""Choose the mode and enter twilio-mode credentials from the browser, without a terminal.

    settings_form()      # notebook 00

It writes the project's git-ignored `.env` (the file `load_settings` reads) and
never shows a secret: tokens are typed into hidden fields, cleared once saved,
and reported only as "set". The environment still wins over `.env`; the form
says so when that hides what it saved.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import ipywidgets as widgets
from dotenv import dotenv_values, set_key

from tutorial_helpers.settings import MODES, TWILIO_REQUIRED, env_path, from_environment

_SID = re.compile(r"AC[0-9a-fA-F]{32}")
SECRETS = ("TWILIO_AUTH_TOKEN", "NGROK_AUTHTOKEN")


def _abbreviate(sid: str) -> str:
    return f"{sid[:4]}…{sid[-4:]}"


class SettingsForm(widgets.VBox):
    """The mode, the three twilio-mode values, and a Save button that writes `.env`."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or env_path()
        saved = self._saved()
        self.mode = widgets.ToggleButtons(
            options=[("local: no account, no internet", "local"), ("twilio: your Twilio account", "twilio")],
            value=saved.get("TUTORIAL_MODE", "local") if saved.get("TUTORIAL_MODE") in MODES else "local",
            style={"button_width": "auto"},
        )
        self.fields: dict[str, widgets.Text] = {
            "TWILIO_ACCOUNT_SID": widgets.Text(description="Account SID", placeholder="AC… (console.twilio.com)"),
            "TWILIO_AUTH_TOKEN": widgets.Password(description="Auth Token"),
            "NGROK_AUTHTOKEN": widgets.Password(description="ngrok token"),
        }
        for field in self.fields.values():
            field.style = {"description_width": "8em"}
            field.layout = widgets.Layout(width="36em")
        self.save = widgets.Button(description="Save to .env", button_style="primary", icon="save")
        self.message = widgets.HTML("")
        self.message.add_class("tr-note")
        self.save.on_click(self._on_save)
        self.mode.observe(lambda _change: self._show_fields(), names="value")
        self._twilio_box = widgets.VBox(list(self.fields.values()))
        super().__init__([self.mode, self._twilio_box, self.save, self.message])
        self.add_class("tr-settings-form")
        self._show_fields()

    def _saved(self) -> dict[str, str]:
        if not self.path.is_file():
            return {}
        return {k: v for k, v in dotenv_values(self.path).items() if v}

    def _show_fields(self) -> None:
        twilio = self.mode.value == "twilio"
        self._twilio_box.layout.display = "flex" if twilio else "none"
        saved = self._saved()
        for name, field in self.fields.items():
            if name in SECRETS:
                field.placeholder = "set in .env: leave empty to keep it" if saved.get(name) else "(hidden as you type)"
            elif saved.get(name) and not field.value:
                field.placeholder = f"{_abbreviate(saved[name])} in .env: leave empty to keep it"

    def _say(self, text: str, ok: bool) -> None:
        color = "#2e7d32" if ok else "#b00"
        self.message.value = f"<div style='color:{color}; white-space:normal; max-width:60em'>{text}</div>"

    def _on_save(self, _button: Any = None) -> None:
        mode = self.mode.value
        typed = {name: field.value.strip() for name, field in self.fields.items() if field.value.strip()}
        if mode == "twilio":
            problem = self._problem(typed)
            if problem:
                self._say(html.escape(problem), ok=False)
                return
        try:
            self._write(mode, typed if mode == "twilio" else {})
        except OSError as exc:
            self._say(f"Could not write {html.escape(str(self.path))}: {html.escape(exc.strerror or str(exc))}.", False)
            return
        for field in self.fields.values():
            field.value = ""  # typed values leave the page once saved; the placeholders say what is set
        self._show_fields()
        self._say(self._saved_text(mode, typed), ok=True)

    def _problem(self, typed: dict[str, str]) -> str | None:
        have = {**self._saved(), **typed}
        missing = [name for name in TWILIO_REQUIRED if not have.get(name)]
        if missing:
            return f"Twilio mode needs {', '.join(missing)}: fill in the empty field(s), then Save. Nothing was saved."
        sid = have["TWILIO_ACCOUNT_SID"]
        if not _SID.fullmatch(sid):
            return (f"The Account SID must be 'AC' followed by 32 hex digits (34 characters); this one has {len(sid)} "
                    "characters. Copy it from console.twilio.com (Account Info). Nothing was saved.")
        return None

    def _write(self, mode: str, values: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            self.path.touch(mode=0o600)  # it will hold tokens
        for name, value in {"TUTORIAL_MODE": mode, **values}.items():
            set_key(str(self.path), name, value, quote_mode="always")  # rewrites through a temporary file

    def _saved_text(self, mode: str, typed: dict[str, str]) -> str:
        names = ["TUTORIAL_MODE", *(typed if mode == "twilio" else ())]
        shown = [f"TUTORIAL_MODE={mode}"] + [
            f"{name}={_abbreviate(typed[name])}" if name == "TWILIO_ACCOUNT_SID" else f"{name} (hidden)"
            for name in names[1:]
        ]
        text = (f"Saved {', '.join(shown)} to <code>{html.escape(str(self.path))}</code> (git-ignored). "
                "<b>Restart the kernel</b> (Kernel > Restart Kernel) and run this notebook from the top.")
        overridden = [name for name in names if from_environment(name)]
        if overridden:
            text += (f" Note: {', '.join(overridden)} is also set in the environment JupyterLab was started from, "
                     "and the environment wins over .env: unset it there and restart JupyterLab.")
        if mode == "twilio":
            text += " To go back to local mode later: choose local here, Save, and restart the kernel."
        return text


def settings_form(path: Path | None = None) -> SettingsForm:
    """The form for notebook 00; display it (it is the cell's last value)."""
    return SettingsForm(path)
