"""The status names of tasks and reservations, and the groups the rules speak of, in one place."""

TASK_STATUSES = ("pending", "reserved", "assigned", "wrapping", "completed", "canceled")
OPEN_TASK = ("pending", "reserved")  # waiting for a worker: routed, offered, may be canceled
HELD_TASK = ("assigned", "wrapping")  # a worker has it: may be completed
FINISHED_TASK = ("completed", "canceled")  # nothing more happens; deleted five minutes later

RESERVATION_STATUSES = (
    "pending", "accepted", "rejected", "timeout", "canceled", "rescinded", "wrapping", "completed",
)
ACTIVE_RESERVATION = ("pending", "accepted", "wrapping")  # blocks a single-tasking worker
HELD_RESERVATION = ("accepted", "wrapping")  # the worker has the task
