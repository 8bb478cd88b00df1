"""Defaults for the project's own venv: a quiet JupyterLab and kernels that explain a restart.

`make install` runs this with the venv's Python. Everything goes into the venv
itself, never into the user's settings (~/.jupyter, ~/.ipython):

- JupyterLab default-setting overrides (overrides.d, one file named after this
  project): no "get notified about official Jupyter news?" toast, no update
  check. A learner who turns news on in Settings still gets it.
- IPython kernel config in the venv's etc/ipython: every kernel loads
  tutorial_helpers.kernel_hints, so a NameError after a restart says to run the
  notebook from the top.
"""

import json
import sys
from pathlib import Path

from jupyterlab.commands import get_app_dir

LAB_OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}
KERNEL_CONFIG = """\
# Written by taskrouter-notebooks' scripts/venv_defaults.py (make install); this venv only.
c.InteractiveShellApp.extensions = ["tutorial_helpers.kernel_hints"]
"""


def lab_overrides_path() -> Path:
    return Path(get_app_dir()) / "settings" / "overrides.d" / "taskrouter-notebooks.json"


def kernel_config_path() -> Path:
    # IPython reads sys.prefix/etc/ipython after the profile (IPython.core.application.ENV_CONFIG_DIRS).
    return Path(sys.prefix) / "etc" / "ipython" / "ipython_kernel_config.py"


def main() -> int:
    for path, text in ((lab_overrides_path(), json.dumps(LAB_OVERRIDES, indent=2) + "\n"),
                       (kernel_config_path(), KERNEL_CONFIG)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"venv default: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
