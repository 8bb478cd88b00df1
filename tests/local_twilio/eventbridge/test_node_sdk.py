"""Twilio's own worker SDK, twilio-taskrouter 2.1.1 as npm installed it, run under Node against the local
server: each scenario of tests/node/worker_sdk.test.js in a fresh server (start-up, accept / wrap / complete,
reject, timeout on the clock, cancel, attributes and a refusal, a channel's availability and capacity, a
reservation rescinded because another worker accepted first, a bad token, an expired token, a token that
expires and is updated, closeExistingSessions)."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tutorial_helpers.worker_page import PAGE_DIR
from tutorial_helpers.workspace import RESERVATION_TIMEOUT

SCRIPT = Path(__file__).resolve().parents[2] / "node" / "worker_sdk.test.js"
SCENARIOS = ["startUp", "acceptWrapComplete", "reservationWrapThenComplete", "reject", "timeout", "canceled",
             "attributesAndRefusals", "channelAvailabilityAndCapacity", "rescinded",
             "badToken", "expiredToken", "tokenExpiresAndUpdates", "closeExistingSessions"]

# Long enough that node has started and connected before it expires, on a busy machine too: the SDK warns
# 5 s before the end (tokenExpired), and the scenario listens from the moment the worker is made.
SHORT_TOKEN_SECONDS = 20


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_the_sdk_under_node(bridge, scenario):
    node = shutil.which("node")
    assert node, "node is not installed: `make install` installs Debian's nodejs (scripts/ensure_node.sh)"
    assert (PAGE_DIR / "node_modules" / "twilio-taskrouter").is_dir(), "run `make install`: it installs the SDK"
    scene = {
        "baseUrl": bridge.taskrouter.base_url,
        "wsUrl": bridge.taskrouter.base_url.replace("http", "ws", 1),
        "accountSid": bridge.taskrouter.account_sid,
        "authToken": bridge.taskrouter.auth_token,
        "workspaceSid": bridge.qs.workspace_sid,
        "workflowSid": bridge.qs.workflow_sid,
        "aliceSid": bridge.qs.workers["Alice"],
        "bobSid": bridge.qs.workers["Bob"],
        "englishQueueSid": bridge.qs.queues["English"],
        "reservationTimeout": RESERVATION_TIMEOUT,
        "workerPageDir": str(PAGE_DIR),
        "tokens": {
            "alice": bridge.token(),
            "short": bridge.token(ttl=SHORT_TOKEN_SECONDS),
            "expired": bridge.token(ttl=-10),
            "bad": bridge.token(secret="not the key's secret, but long enough"),
        },
    }
    done = subprocess.run([node, str(SCRIPT), scenario], capture_output=True, text=True, timeout=90,
                          env={**os.environ, "SCENE": json.dumps(scene)})
    results = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert [r["scenario"] for r in results] == [scenario], (done.stdout, done.stderr[-2000:])
    assert results[0]["ok"], results[0].get("error")
    assert done.returncode == 0, done.stderr[-2000:]
