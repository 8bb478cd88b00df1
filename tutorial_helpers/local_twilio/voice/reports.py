"""Reports: a call's status callbacks and a finished call's Enqueue action, sent from the store's outbox.

A report is a signed request whose answer is not read. It is written to the
outbox in the unit of work of the change that made it due (the status change
itself), sent after commit, and marked done once settled: answered, or failed
(only logged, as nothing can hear it; it is not retried). A call's reports go
one at a time, in the order they became due, so its SequenceNumbers arrive in
order; a slow application holds up only the calls it serves. `resume()` at
start-up sends what a killed process left due, before anything new.

The outbox keeps no auth token: the account's token is read when the report
is sent, as for TaskRouter's callbacks.
"""

import logging
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from ..core.state import Row
from ..core.store import Store
from ..core.webhooks import Unreachable, send

log = logging.getLogger(__name__)

KIND = "call_report"  # the outbox kind
SENDERS = 8  # threads shared by every call's reports


def due(row: Row, method: str, url: str, params: dict[str, str]) -> dict:
    """What the outbox keeps of a report: all it takes to send it after a restart."""
    return {"call_sid": row["sid"], "account_sid": row["account_sid"], "method": method, "url": url,
            "params": params}


class Reports:
    def __init__(self, store: Store, accounts: dict[str, str], deadline: float):
        self._store = store
        self._accounts = accounts
        self._deadline = deadline
        self._pool = ThreadPoolExecutor(SENDERS, thread_name_prefix="voice-report")
        self._lock = threading.Lock()
        self._closed = False
        # call sid -> its reports not yet taken; a call is a key while one thread sends its reports.
        self._lanes: dict[str, deque[tuple[int | None, dict]]] = {}

    def send(self, outbox_id: int | None, report: dict) -> None:
        """Queue a report behind the ones its call already has (State.queue_callback calls this after commit)."""
        with self._lock:
            if self._closed:  # stopping: it stays in the outbox and goes at the next start
                return
            lane = self._lanes.get(report["call_sid"])
            if lane is not None:
                lane.append((outbox_id, report))
                return
            self._lanes[report["call_sid"]] = deque([(outbox_id, report)])
            self._pool.submit(self._drain, report["call_sid"])

    def resume(self) -> int:
        """Send the reports a previous process left due, oldest first; returns how many."""
        left = self._store.outbox((KIND,))
        for outbox_id, _kind, report in left:
            self.send(outbox_id, report)
        return len(left)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _drain(self, call_sid: str) -> None:
        """Send one call's reports in order until none is left; the lane is dropped under the lock, so a
        report queued meanwhile either joins this loop or starts a new one."""
        while True:
            with self._lock:
                lane = self._lanes[call_sid]
                if not lane or self._closed:
                    del self._lanes[call_sid]
                    return
                outbox_id, report = lane.popleft()
            self._deliver(report)
            self._settled(outbox_id)

    def _deliver(self, report: dict) -> None:
        call_sid, url = report["call_sid"], report["url"]
        auth_token = self._accounts.get(report["account_sid"])
        if auth_token is None:  # the account is not served any more (a restart with other credentials)
            log.warning("call %s: %s: account %s is unknown, report not sent", call_sid, url, report["account_sid"])
            return
        try:
            send(report["method"], url, report["params"], auth_token, self._deadline)
        except Unreachable as exc:
            log.warning("call %s: %s: %s", call_sid, url, exc)
        except Exception:  # never lose the lane's thread: the report is settled and the next one goes
            log.exception("call %s: report to %s failed", call_sid, url)

    def _settled(self, outbox_id: int | None) -> None:
        try:
            self._store.outbox_done(outbox_id)
        except Exception:  # the store closed under us at shutdown: it is sent again at the next start
            log.debug("outbox %s not marked done", outbox_id)
