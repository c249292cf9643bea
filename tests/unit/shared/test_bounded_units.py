"""shared.bounded's slots, and the prefetch that leaves room for calls waiting for one: no
broker, no database."""

from types import SimpleNamespace

import eventlet
import pytest

from shared.bounded import Slots
from shared.messaging import GuardedQueueConsumer


def test_no_more_than_the_limit_hold_a_slot_and_the_others_wait_in_arrival_order():
    slots, inside, most, order = Slots(2), [], [0], []

    def work(n):
        assert slots.enter()
        inside.append(n)
        most[0] = max(most[0], len(inside))
        order.append(n)
        eventlet.sleep(0.01)  # work done while holding the slot: the others must queue
        inside.remove(n)
        slots.leave()

    threads = [eventlet.spawn(work, n) for n in range(6)]
    for thread in threads:
        thread.wait()
    assert most[0] == 2
    assert order == list(range(6))
    assert slots.busy == 0


def test_once_closed_a_waiting_caller_gets_no_slot():
    slots = Slots(1)
    assert slots.enter()
    waiting = eventlet.spawn(slots.enter)
    eventlet.sleep(0)  # a yield, no time: the spawned caller runs and blocks in enter()
    slots.close()
    slots.leave()
    assert waiting.wait() is False
    assert slots.busy == 0  # the refused caller took nothing with it


@pytest.mark.parametrize("limit", [0, -1])
def test_a_limit_below_one_is_refused(limit):
    with pytest.raises(ValueError):
        Slots(limit)


def test_the_consumer_prefetches_max_workers_plus_the_configured_extra():
    consumer = GuardedQueueConsumer()
    consumer.container = SimpleNamespace(max_workers=10, config={})
    assert consumer.prefetch_count == 10
    consumer.container.config = {"EXTRA_PREFETCH": "40"}  # from the environment: a string
    assert consumer.prefetch_count == 50
