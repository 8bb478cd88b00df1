"""The worker page's twilio-taskrouter bundle: built by `make install`, loadable by a plain <script> tag."""

import json
import shutil
import subprocess

import pytest

from tutorial_helpers import worker_page
from tutorial_helpers.worker_page import SdkBundleMissing, sdk_bundle

# A browser-like global with no require() and no process: what a <script> tag gives the file.
LOAD_IN_A_PAGE = r"""
const fs = require('fs'), vm = require('vm');
const page = { console, setTimeout, clearTimeout, setInterval, clearInterval };
page.window = page; page.self = page; page.globalThis = page;
vm.createContext(page);
vm.runInContext(fs.readFileSync(process.argv[1], 'utf8'), page, { filename: process.argv[1] });
const tr = page.TaskRouter || {};
console.log(JSON.stringify({ Worker: typeof tr.Worker, exports: Object.keys(tr).sort() }));
"""


def node() -> str:
    found = shutil.which("node")
    assert found, "node is not installed: the worker page's SDK bundle needs it (Debian: apt-get install nodejs npm)"
    return found


def test_the_bundle_is_built_and_holds_the_whole_sdk():
    assert sdk_bundle().stat().st_size > 300_000  # the SDK with axios, events, ws-in-browser shims; not a stub


def test_the_bundle_defines_taskrouter_worker_without_require():
    done = subprocess.run(
        [node(), "-e", LOAD_IN_A_PAGE, str(sdk_bundle())], capture_output=True, text=True, timeout=20, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    assert loaded["Worker"] == "function", loaded
    assert {"Worker", "Workspace", "Supervisor", "TaskRouterEventHandler"} <= set(loaded["exports"])


def test_the_installed_sdk_is_the_pinned_one():
    installed = worker_page.PAGE_DIR / "node_modules" / "twilio-taskrouter" / "package.json"
    pinned = json.loads((worker_page.PAGE_DIR / "package.json").read_text())["dependencies"]["twilio-taskrouter"]
    assert json.loads(installed.read_text())["version"] == pinned


def test_a_missing_bundle_says_how_to_build_it(monkeypatch, tmp_path):
    monkeypatch.setattr(worker_page, "SDK_BUNDLE", tmp_path / "twilio-taskrouter.js")
    with pytest.raises(FileNotFoundError, match=r"not built: run `make install` \(it needs node and npm\)") as raised:
        sdk_bundle()
    assert isinstance(raised.value, SdkBundleMissing)
