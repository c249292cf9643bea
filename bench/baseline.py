"""The baseline the benchmark compares against, measured in the same run: nameko's plain
EventDispatcher → event_handler, no outbox, no inbox, no database."""

from typing import ClassVar

from nameko.events import EventDispatcher, event_handler
from nameko.rpc import rpc


class BaselineProducer:
    name = "bench_producer"
    dispatch = EventDispatcher()

    @rpc
    def fire(self, start, count):
        for seq in range(start, start + count):
            self.dispatch("ping", {"seq": seq})
        return count

    @rpc
    def health(self):
        return {"service": self.name}


class BaselineConsumer:
    name = "bench_consumer"
    received: ClassVar[set] = set()

    @event_handler("bench_producer", "ping")
    def on_ping(self, payload):
        BaselineConsumer.received.add(payload["seq"])

    @rpc
    def count(self):
        return len(BaselineConsumer.received)

    @rpc
    def health(self):
        return {"service": self.name}

    @rpc
    def reset(self):
        BaselineConsumer.received.clear()
