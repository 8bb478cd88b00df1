"""The check cells: did the step work, and if not, what to look at.

Each check returns a `CheckResult` that shows as a short verdict in the
notebook (in the manner of Kaggle's learntools `q1.check()`) and is truthy
only when the step worked; the tests assert the same results.

    check_environment(settings)
    check_workspace(client)
    check_step_02(client, quickstart, task.sid)
    check_step_03(client, quickstart, task.sid, server)

Checks that follow something asynchronous (a reservation, a callback) wait up
to `timeout` seconds for it, but return at once when the next move is the
learner's (Alice still Offline, a reservation waiting to be accepted).

One module per group of notebooks, each importing what they share from
`common` (CheckResult, the headings messages name, the wait): `setup` (00
and 01), `accept` (02 and 03), `calls` (04 and 05), `worker_page` (06) and
`wallboard` (07). Notebooks and tests import every check from here.
"""

from tutorial_helpers.checks.accept import check_step_02, check_step_03
from tutorial_helpers.checks.calls import DEQUEUE_HINTS, SPANISH_QUEUE, check_step_04, check_step_05
from tutorial_helpers.checks.common import (
    HEADINGS,
    POLL_SECONDS,
    STEP_02,
    STEP_03,
    STEP_04,
    STEP_05,
    STEP_06,
    STEP_07,
    CheckResult,
    again_from,
)
from tutorial_helpers.checks.setup import _callback_host_advice as _callback_host_advice  # tests import it from here
from tutorial_helpers.checks.setup import check_environment, check_reachable, check_workspace
from tutorial_helpers.checks.wallboard import check_step_07
from tutorial_helpers.checks.worker_page import check_step_06

__all__ = [
    "DEQUEUE_HINTS",
    "HEADINGS",
    "POLL_SECONDS",
    "SPANISH_QUEUE",
    "STEP_02",
    "STEP_03",
    "STEP_04",
    "STEP_05",
    "STEP_06",
    "STEP_07",
    "CheckResult",
    "again_from",
    "check_environment",
    "check_reachable",
    "check_step_02",
    "check_step_03",
    "check_step_04",
    "check_step_05",
    "check_step_06",
    "check_step_07",
    "check_workspace",
]
