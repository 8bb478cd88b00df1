"""Quiet defaults for the project's JupyterLab: no "get notified about official Jupyter news?" toast.

`make install` runs this with the venv's Python. It writes default-setting
overrides into that JupyterLab's own app directory (overrides.d, one file named
after this project), never into the user's settings: a learner who turns the
news on in Settings still gets it.
"""

import json
import sys
from pathlib import Path

from jupyterlab.commands import get_app_dir

OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


def overrides_path() -> Path:
    return Path(get_app_dir()) / "settings" / "overrides.d" / "taskrouter-notebooks.json"


def main() -> int:
    path = overrides_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(OVERRIDES, indent=2) + "\n")
    print(f"JupyterLab defaults for this project: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
