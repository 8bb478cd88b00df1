"""The task and reservation statuses the helpers speak of, in the groups their checks and widgets use.

The names are Twilio's. The local server has the same groups, by the same names, in
local_twilio/taskrouter/statuses.py; this module does not import them because importing anything of
local_twilio starts with its server, which imports tutorial_helpers.workspace (the board's steps), which
needs these groups: a cycle. This module imports nothing, so the server's could import it instead.
"""

OPEN_TASK = ("pending", "reserved")  # waiting for a worker: not yet assigned
HELD_TASK = ("assigned", "wrapping")  # a worker has it
FINISHED_TASK = ("completed", "canceled")  # nothing more happens to it
UNFINISHED_TASK = (*OPEN_TASK, *HELD_TASK)
TAKEN_TASK = (*HELD_TASK, "completed")  # a worker accepted it: she has it, or had it until it was completed

HELD_RESERVATION = ("accepted", "wrapping")  # the worker has the task
ACCEPTED_RESERVATION = (*HELD_RESERVATION, "completed")  # the worker accepted, whatever became of the task since
