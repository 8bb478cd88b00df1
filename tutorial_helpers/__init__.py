"""Plumbing for the TaskRouter quickstart notebooks.

The learner writes SDK calls and the Flask route; everything else (servers,
tunnels, widgets, the local TaskRouter) lives here:

- settings: the mode (local | twilio) and its credentials
- environment: prepare(), the first cell of every notebook
- client: make_client(settings), the official twilio.rest.Client for the mode
- callback_server: start_callback_server(app, settings), signature check, CallbackLog
- tunnel: the ngrok tunnel (twilio mode)
- workspace: the quickstart's workspace, found or built idempotently; tidy_up_tasks
- widgets: WorkerActivityControls, TaskStatusView, CallbackInspector
- checks: check_environment, check_workspace, check_step_02, check_step_03
- reset: reset_tutorial(client), python -m tutorial_helpers.reset
- local_twilio: the local Twilio server, TaskRouter first (local_taskrouter: its old name, still working)
"""
