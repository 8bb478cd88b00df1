"""Table 5: per-request overhead of the API against a bare Flask "hello" on the same server stack.

Both servers are werkzeug `make_server(threaded=True)` processes answering one client; the
difference is what the TaskRouter does per request (auth, routing, state, JSON, SQLite on writes).
The twilio SDK's own cost is the difference between its fetch and the raw fetch of the same task.
"""

import json
import time
from collections.abc import Callable

import requests

from tutorial_helpers.local_twilio import make_local_client

from .api import Api, Workspace
from .harness import ACCOUNT_SID, AUTH_TOKEN, Context, Deadline, Summary, Table, ms, ratio

WARMUP = 10


def run(ctx: Context) -> Table:
    cfg = ctx.cfg
    with ctx.server("overhead") as server:
        api = Api(server.base_url)
        ws = Workspace.create(api, ctx.helper.callback_url)
        ws.add_quickstart_workers()
        task = ws.create_task("es")["sid"]  # stays pending: Alice is Offline
        bob = ws.workers["Bob"]
        plain = requests.Session()
        sdk = make_local_client(server.base_url, ACCOUNT_SID, AUTH_TOKEN).taskrouter.v1.workspaces(ws.sid)
        attributes = [json.dumps({"languages": ["en"], "n": i}) for i in range(2)]
        calls: list[tuple[str, Callable[[int], object]]] = [
            ("bare Flask hello (helper process)", lambda i: plain.get(ctx.helper.hello_url, timeout=10)),
            ("`GET /_local/health` (no auth, no state)",
             lambda i: plain.get(f"{server.base_url}/_local/health", timeout=10)),
            ("`GET Workspaces/{sid}`", lambda i: api.get(ws.path)),
            ("`GET Tasks/{sid}`", lambda i: ws.task(task)),
            ("`GET Workers` (list of 2)", lambda i: api.get(f"{ws.path}/Workers")),
            ("`POST Workers/{sid}` Attributes (a write)",
             lambda i: api.post(f"{ws.path}/Workers/{bob}", Attributes=attributes[i % 2])),
            ("twilio SDK `tasks(sid).fetch()`", lambda i: sdk.tasks(task).fetch()),
        ]
        times: dict[str, list[float]] = {name: [] for name, _ in calls}
        deadline = Deadline(cfg.time_limit)
        # Round-robin, so a noisy neighbour slows every row alike instead of one of them.
        for i in range(WARMUP + cfg.overhead_requests):
            if deadline.passed():
                break
            for name, call in calls:
                start = time.perf_counter()
                call(i)
                if i >= WARMUP:
                    times[name].append(time.perf_counter() - start)
        plain.close()
        api.close()
    summaries = {name: Summary.of(values) for name, values in times.items()}
    hello = summaries[calls[0][0]].p50
    table = Table(
        5, "Per-request overhead of the API",
        ["request", "n", "p50 ms", "p99 ms", "p50 − hello ms", "p50 / hello"],
        caption=(
            "Raw `requests.Session` with Basic auth unless marked SDK; the bare hello is a Flask app served "
            "by werkzeug `make_server(threaded=True)` in its own process, exactly like the TaskRouter. Rows "
            "interleaved round-robin in one run. Werkzeug closes the connection after every response, so "
            "each request includes a TCP connect and a new server thread, on both sides of the comparison."
        ),
    )
    for name, s in summaries.items():
        table.rows.append([name, str(s.n), ms(s.p50), ms(s.p99), ms(s.p50 - hello), ratio(s.p50, hello)])
    raw, via_sdk = summaries["`GET Tasks/{sid}`"].p50, summaries["twilio SDK `tasks(sid).fetch()`"].p50
    table.notes.append(f"twilio SDK overhead on a fetch: {ms(via_sdk - raw)} ms at p50 over the raw request.")
    if deadline.expired:
        table.notes.append(f"Stopped at the {cfg.time_limit:g} s time limit.")
    return table
