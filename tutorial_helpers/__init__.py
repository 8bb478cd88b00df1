"""Plumbing for the TaskRouter quickstart notebooks.

The learner writes SDK calls and the Flask route; everything else (servers,
tunnels, widgets, the local TaskRouter) lives here:

- settings: the mode (local | twilio) and its credentials; no other helper reads the environment
- settings_form: notebook 00's form that writes them to the git-ignored .env
- environment: prepare(), the first cell of every notebook
- client: make_client(settings), the official twilio.rest.Client for the mode; mode_of(client)
- callback_server: start_callback_server(app, settings), signature check, CallbackLog
- browser_urls: browser_url, a browser's way to the kernel's servers through the learner's Jupyter server
- tunnel: the ngrok tunnel (twilio mode); agent_path, the ngrok agent it runs
- workspace: the quickstart's workspace, found or built idempotently; tidy_up_tasks
- widgets/: WorkerActivityControls, TaskStatusView, CallbackInspector (live: the live-update plumbing)
- pause: pause_for_click, where Run All stops for the learner's click (YourTurn)
- checks/: check_environment, check_workspace, check_step_02 ... check_step_07, a module per group of notebooks
- reset: start_over(client), the two-click button; reset_tutorial(client); python -m tutorial_helpers.reset
- kernel_hints: an IPython extension: a NameError after a kernel restart says to run from the top
- working_copy: the learner's own copy of the notebooks (make lab, make fresh-notebooks)
- headless: the click a headless run (tests, bench) inserts where the learner clicks
- statuses: the task and reservation status groups (OPEN_TASK, HELD_TASK, FINISHED_TASK, ...)
- errors: TutorialError, the base of the errors shown as one line that says what to do
- local_twilio: the local Twilio server (TaskRouter, the voice side, EventBridge, accounts, the board)
"""
