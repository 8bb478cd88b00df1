"""Units of work (core/state.py): what a unit makes due is handed on at its commit, still under the state lock,
so callbacks reach their sender in the order the units committed."""


def test_event_callbacks_were_handed_on_after_the_lock_so_two_units_could_swap(taskrouter, client):
    """The kill soak saw a workspace's event callbacks arrive out of order: each unit handed its callbacks to
    the dispatcher after letting the state lock go, so a unit that committed later could hand on first. They
    are handed on at commit, under the lock: then no other unit can commit in between."""
    import threading

    backend = taskrouter.backend
    state = backend.state
    held: list[bool] = []
    hand_on = backend.on_event  # the dispatcher's, called when a unit hands its event callbacks on

    def noting(ws, event, outbox_id=None):
        probe = threading.Thread(target=lambda: held.append(not state.lock.acquire(blocking=False)))
        probe.start()
        probe.join()
        if not held[-1]:
            state.lock.release()  # the probe took it, so nobody held it
        hand_on(ws, event, outbox_id)

    backend.on_event = noting
    try:
        ws = client.taskrouter.v1.workspaces.create(friendly_name="Ordered", event_callback_url="http://127.0.0.1:9/e")
        client.taskrouter.v1.workspaces(ws.sid).workers.create(friendly_name="Ann")  # worker.created
    finally:
        backend.on_event = hand_on
    assert held and all(held), "an event callback was handed on while another unit could commit"
