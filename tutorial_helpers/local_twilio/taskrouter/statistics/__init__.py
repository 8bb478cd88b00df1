"""Statistics: what a supervisor's wallboard reads (issue 17).

- realtime.py: figures from the current state (rows in memory): tasks by status, the longest waiting task,
  workers by activity, available and eligible workers.
- cumulative.py: figures from the stored events over a window of the one clock, counted in SQL
  (Store.event_figures), never by replaying events in Python.
- handlers.py: the 15 endpoints, each read params -> figures -> the Twilio body.
"""
