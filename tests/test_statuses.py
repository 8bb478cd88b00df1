"""The helpers' status groups are the local server's: the helpers cannot import the server's module (a cycle,
see tutorial_helpers/statuses.py), so this is where the two are held together."""

import pytest

from tutorial_helpers import statuses
from tutorial_helpers.local_twilio.taskrouter import statuses as server


@pytest.mark.parametrize("name", ["OPEN_TASK", "HELD_TASK", "FINISHED_TASK", "HELD_RESERVATION"])
def test_a_group_both_name_is_the_same_group(name):
    assert getattr(statuses, name) == getattr(server, name)


def test_the_helpers_own_groups_are_made_of_twilios_statuses():
    for group in (statuses.UNFINISHED_TASK, statuses.TAKEN_TASK):
        assert set(group) <= set(server.TASK_STATUSES)
    assert set(statuses.ACCEPTED_RESERVATION) <= set(server.RESERVATION_STATUSES)
    assert set(statuses.UNFINISHED_TASK) | set(statuses.FINISHED_TASK) == set(server.TASK_STATUSES)
