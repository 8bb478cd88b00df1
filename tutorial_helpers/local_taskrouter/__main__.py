"""python -m tutorial_helpers.local_taskrouter: the same command as local-taskrouter."""

import sys

from tutorial_helpers.local_twilio.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
