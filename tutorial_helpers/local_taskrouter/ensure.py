"""python -m tutorial_helpers.local_taskrouter.ensure: the same as tutorial_helpers.local_twilio.ensure."""

import sys

from tutorial_helpers.local_twilio.ensure import (
    LocalTaskRouterUnavailable,
    ensure_running,
    is_running,
    main,
    stop_running,
)

__all__ = ["LocalTaskRouterUnavailable", "ensure_running", "is_running", "main", "stop_running"]

if __name__ == "__main__":
    sys.exit(main())
