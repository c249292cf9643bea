"""The project's entrypoints, thin subclasses of nameko's:

- ``rpc(roles=...)``: refuses a call whose token is missing or bad (``Unauthorized``) or
  whose role is not among ``roles``, or a station token unless ``stations=True``
  (``Forbidden``) before any worker starts (``public=True`` for ``health``); commits the
  worker's transaction before the reply leaves; runs the
  worker again after a database fault that left nothing committed (``RpcRetries``); the
  project's errors are expected (logged as warnings, not errors); replies go out without
  publisher confirms (see ``RpcConsumer``).
- ``event_handler``: an inbox handler. Its queue is a durable quorum queue with a delivery
  limit and a dead-letter exchange ``<service>.dlx`` (queue ``<service>.dlq``); a failing
  message is requeued until the limit, then dead-lettered. The handler receives a
  ``ReceivedEvent`` loaded through the contract, runs at most once per ``event_id`` (the
  inbox row is written in the same transaction as its effects) and the transaction is
  committed before the message is acked.

Over 400 lines: the RPC and event entrypoints share one consumer (the bus boundary's checks),
one commit-before-reply-or-ack rule and one retry policy; split, each half would be read
with the other open beside it.
"""

import functools
import sys
import time
from typing import Any

import eventlet
import structlog
from amqp.exceptions import NotFound, PreconditionFailed
from kombu import Connection, Exchange, Queue, binding
from kombu import Consumer as KombuConsumer
from nameko import rpc as nameko_rpc
from nameko.amqp.publish import Publisher
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY,
    AMQP_URI_CONFIG_KEY,
    DEFAULT_SERIALIZER,
    LOGIN_METHOD_CONFIG_KEY,
    SERIALIZER_CONFIG_KEY,
)
from nameko.events import EventHandler
from nameko.exceptions import ContainerBeingKilled, MethodNotFound
from nameko.messaging import QueueConsumer

from shared import auth, boundary, metrics
from shared.config import amqp_uri
from shared.contracts import load_event
from shared.db import Database, DatabaseUnavailable, finish_unit_of_work, is_transient
from shared.errors import ServiceError, StatementTimeout

log = structlog.get_logger(__name__)
DEFAULT_DELIVERY_LIMIT = 5
DEFAULT_TRANSIENT_RETRIES = 25  # about five minutes of backoff (0.2 s doubling, 15 s cap)
MAX_RETRY_DELAY = 15.0
# An RPC is run again for at most this long after its first transient failure: well under
# a caller's timeout (15 s by default, vetctl's and the tests').
DEFAULT_RPC_RETRY_SECONDS = 5.0
MAX_RPC_RETRY_DELAY = 1.0


class TransientRetries:
    """Messages whose handler failed on the database or the broker (``is_transient``) are
    run again in this process after a backoff, still unacked, so the failure does not use
    up their delivery limit; after ``TRANSIENT_RETRIES`` tries they are requeued as any
    failure is (and reach the dead letters if it goes on)."""

    def __init__(self, container, handler):
        self.container, self.handler = container, handler
        self.limit = int(container.config.get("TRANSIENT_RETRIES", DEFAULT_TRANSIENT_RETRIES))
        self.tries = {}

    def should_retry(self, key, exc_info):
        if exc_info is None or not is_transient(exc_info[1]):
            self.tries.pop(key, None)
            return False
        tries = self.tries.get(key, 0) + 1
        if tries > self.limit:
            self.tries.pop(key, None)
            return False
        self.tries[key] = tries
        return True

    def later(self, key, run, exc_info):
        delay = min(0.2 * 2 ** (self.tries[key] - 1), MAX_RETRY_DELAY)
        log.warning(
            "handler.transient_retry",
            handler=self.handler,
            attempt=self.tries[key],
            delay_s=delay,
            error=type(exc_info[1]).__name__,
        )

        def again():
            eventlet.sleep(delay)
            run()

        self.container.spawn_managed_thread(again)


def safe_to_run_again(exc):
    """A transient failure that left nothing behind: the transaction was rolled back, not
    lost during (or after part of the work reached) a COMMIT (``outcome_unknown``, set by
    ``shared.db.Session``). A statement timeout or a pool with no free connection has
    already cost the caller seconds: it is answered at once."""
    return (
        is_transient(exc)
        and not isinstance(exc, (StatementTimeout, DatabaseUnavailable))
        and not getattr(exc, "outcome_unknown", False)
    )


class RpcRetries:
    """An RPC whose transaction failed on the database before it committed (connection
    lost, the server restarting, a serialization failure or deadlock) changed nothing: it
    runs again in this process after a short backoff (0.1 s doubling to 1 s), the request
    still unacked, for at most ``RPC_RETRY_SECONDS`` (5) after its first failure; then the
    caller gets the error. 0 turns this off."""

    def __init__(self, container, method):
        self.container, self.method = container, method
        self.budget = float(container.config.get("RPC_RETRY_SECONDS", DEFAULT_RPC_RETRY_SECONDS))
        self.failures = {}  # request message → (first failure's time, attempts)

    def should_retry(self, key, exc_info):
        if exc_info is None or not safe_to_run_again(exc_info[1]):
            self.failures.pop(key, None)
            return False
        now = time.monotonic()
        first, attempts = self.failures.get(key, (now, 0))
        if now - first >= self.budget:
            self.failures.pop(key, None)
            return False
        self.failures[key] = (first, attempts + 1)
        return True

    def later(self, key, run, exc_info):
        attempt = self.failures[key][1]
        delay = min(0.1 * 2 ** (attempt - 1), MAX_RPC_RETRY_DELAY)
        log.warning(
            "rpc.transient_retry",
            method=self.method,
            attempt=attempt,
            delay_s=delay,
            error=type(exc_info[1]).__name__,
        )

        def again():
            eventlet.sleep(delay)
            run()

        self.container.spawn_managed_thread(again)


class GuardedConsumer(KombuConsumer):
    """kombu's consumer, refusing a body over the size limit before anything decodes it."""

    max_body = boundary.DEFAULT_MAX_BODY
    on_refused: Any = None  # (message, reason)
    channel: Any

    def _receive_callback(self, raw):
        problem = boundary.size_problem(raw.body, self.max_body)
        if problem is None:
            return super()._receive_callback(raw)
        message = self.channel.message_to_python(raw)
        return self.on_refused(message, problem)


class GuardedQueueConsumer(QueueConsumer):
    """nameko's shared consumer whose every message passes the bus boundary's checks
    (``shared.boundary``) before a provider sees it: an oversized or undecodable body is
    refused here, in the consumer thread, and never logged raw."""

    def get_consumers(self, consumer_cls, channel):
        """nameko's, with a ``GuardedConsumer`` per provider (called after every
        (re)connection)."""
        limit = boundary.max_body(self.container.config)
        for provider in self._providers:
            consumer = GuardedConsumer(
                channel,
                queues=[provider.queue],
                accept=self.accept,
                callbacks=[functools.partial(self.handle_message, provider)],
                on_decode_error=functools.partial(self._undecodable, provider),
            )
            consumer.max_body = limit
            consumer.on_refused = functools.partial(self.refuse, provider)
            consumer.qos(prefetch_count=self.prefetch_count)
            self._consumers[provider] = consumer
        return self._consumers.values()

    @property
    def prefetch_count(self):
        # nameko's is max_workers. EXTRA_PREFETCH more wait in the process, unacked, for a
        # worker or for a slot of a bounded RPC (shared.bounded): calls waiting for a slot
        # must not hold back the calls queued behind them (registry's health() behind bulk).
        return self.container.max_workers + int(self.container.config.get("EXTRA_PREFETCH") or 0)

    connected = False  # for /readyz: this process's consumer holds a live connection
    _watchdog = None

    # -- shutdown without re-running work ---------------------------------------------------
    # nameko 2.14 stops its consumer thread, and so closes the connection, as soon as the
    # last consumer is cancelled: at the start of a graceful stop, before the in-flight
    # workers finish. Their acks then go nowhere and every one of them is redelivered
    # (RPCs run twice). Here the consumers are still cancelled first (no new message
    # arrives), but the connection stays open until the container has waited for its
    # workers and stops this extension; a stop that outlasts SHUTDOWN_GRACE_SECONDS kills
    # the container (its unfinished messages then go back to their queues, as they must).

    def on_iteration(self):
        self._cancel_consumers_if_requested()  # but no should_stop: see stop()

    def unregister_provider(self, provider):
        if self._watchdog is None and self._gt is not None:
            grace = float(self.container.config.get("SHUTDOWN_GRACE_SECONDS") or 30)
            self._watchdog = eventlet.spawn_after(grace, self._overdue, grace)
        super().unregister_provider(provider)

    def _overdue(self, grace):
        log.warning("shutdown.grace_exceeded", service=self.container.service_name, grace_s=grace)
        self.container.kill()

    def stop(self):
        self.should_stop = True  # every worker has finished: acks are out
        super().stop()
        if self._watchdog is not None:
            self._watchdog.cancel()

    def on_consume_ready(self, connection, channel, consumers, **kwargs):
        self.connected = True
        super().on_consume_ready(connection, channel, consumers, **kwargs)

    def consume(self, *args, **kwargs):
        try:
            yield from super().consume(*args, **kwargs)
        finally:  # the connection is lost (kombu reconnects) or the consumer stops
            self.connected = False

    def handle_message(self, provider, body, message):
        """A decoded message is checked here, once for every kind of provider (its
        ``boundary_problem``), before nameko spawns anything for it."""
        check = getattr(provider, "boundary_problem", None)
        problem = check(body, message) if check is not None else None
        if problem is not None:
            self.refuse(provider, message, problem)
            return
        super().handle_message(provider, body, message)

    def refuse(self, provider, message, reason):
        count = getattr(provider, "count_refusal", None)
        if count is not None:
            count(message)
        boundary.refuse(
            self.container,
            provider.queue.name,
            message,
            reason,
            reply=getattr(provider, "replies", False),
        )

    def _undecodable(self, provider, message, exc):
        self.refuse(provider, message, f"the body does not decode ({type(exc).__name__})")


class Responder(nameko_rpc.Responder):
    # A reply goes to the caller's own auto-delete queue. A broker confirm per reply costs a
    # round trip per call (measured: trivial RPCs 706/s with, 898/s without), and when the
    # broker is gone nameko then leaves the request unacked, so it runs a second time.
    publisher_cls = functools.partial(Publisher, use_confirms=False)


class RpcConsumer(nameko_rpc.RpcConsumer):
    """nameko's, with a quorum ``rpc-<service>`` queue (a delivery limit and dead letters,
    like the event queues), requests checked at the boundary before any provider sees
    them, and replies through the unconfirmed ``Responder``; a reply that cannot be sent
    is logged and dropped (the caller times out; the request was done once)."""

    queue: Any = None
    queue_consumer = GuardedQueueConsumer()
    replies = True  # refused requests are answered
    boundary_problem = staticmethod(boundary.rpc_problem)

    def setup(self):
        if self.queue is None:
            config = self.container.config
            service = self.container.service_name
            name = nameko_rpc.RPC_QUEUE_TEMPLATE.format(service)
            exchange = nameko_rpc.get_rpc_exchange(config)
            self.queue = rpc_queue(
                service, exchange, config.get("DELIVERY_LIMIT", DEFAULT_DELIVERY_LIMIT)
            )
            with Connection(amqp_uri(config)) as connection:
                ensure_exchange(connection, exchange.name)
                declare_dead_letters(connection, service)
                _declare_replacing(connection, self.queue, name)
            self.queue_consumer.register_provider(self)
            self._registered = True

    def get_provider_for_method(self, routing_key):
        try:
            return super().get_provider_for_method(routing_key)
        except MethodNotFound:  # answered by nameko; counted without the name asked for
            metrics.of(self.container).rpc_done(
                metrics.UNKNOWN_METHOD, metrics.REFUSED, time.perf_counter()
            )
            raise

    def count_refusal(self, message):
        """A request refused at the boundary, under its method's name if it has one."""
        routing_key = (message.delivery_info or {}).get("routing_key") or ""
        methods = {
            f"{self.container.service_name}.{p.method_name}": p.method_name for p in self._providers
        }
        metrics.of(self.container).rpc_done(
            methods.get(routing_key, metrics.UNKNOWN_METHOD), metrics.REFUSED, time.perf_counter()
        )

    def handle_result(self, message, result, exc_info):
        config = self.container.config
        responder = Responder(
            config[AMQP_URI_CONFIG_KEY],
            nameko_rpc.get_rpc_exchange(config),
            config.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER),
            message,
            ssl=config.get(AMQP_SSL_CONFIG_KEY),
            login_method=config.get(LOGIN_METHOD_CONFIG_KEY),
        )
        try:
            result, exc_info = responder.send_response(result, exc_info)
        except Exception as exc:  # broker gone, reply queue deleted: never fatal
            log.warning(
                "rpc.reply_failed",
                routing_key=message.delivery_info.get("routing_key"),
                error=type(exc).__name__,
            )
        self.queue_consumer.ack_message(message)
        return result, exc_info


def rpc_queue(service, exchange, delivery_limit):
    """``rpc-<service>``: a quorum queue (it survives a node loss) with a delivery limit and
    dead letters, so a request that kills its worker cannot come back for ever."""
    name = nameko_rpc.RPC_QUEUE_TEMPLATE.format(service)
    dlx, _ = dead_letter_names(service)
    return Queue(
        name,
        exchange=_passive(exchange.name),
        routing_key=f"{service}.*",
        durable=True,
        queue_arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": int(delivery_limit),
            "x-dead-letter-exchange": dlx,
            "x-dead-letter-routing-key": name,
        },
    )


def _declare_replacing(connection, queue, name):
    """Declare ``queue``; a classic ``rpc-<service>`` left by an earlier version (its
    arguments cannot change) is deleted and declared anew: RPC requests are short-lived,
    their callers retry."""
    try:
        queue(connection.channel()).declare()
    except PreconditionFailed:
        log.warning("rpc.queue_replaced", queue=name)
        connection.channel().queue_delete(name)
        queue(connection.channel()).declare()


class Rpc(nameko_rpc.Rpc):
    rpc_consumer = RpcConsumer()
    resolves_lost_commits = True  # the caller waits: a lost COMMIT is looked up (shared.db)

    def __init__(
        self,
        roles=auth.READ,
        public=False,
        expected_exceptions=ServiceError,
        stations=False,
        **kwargs,
    ):
        # ``stations``: a station token may call it (registry's card RPCs, which check
        # each card's station); every other RPC refuses one (shared.auth.require_role).
        self.roles, self.public, self.stations = frozenset(roles), public, stations
        super().__init__(expected_exceptions=expected_exceptions, **kwargs)

    def setup(self):
        super().setup()
        config = self.container.config
        self.checks = not self.public and not auth.disabled(config)
        if self.checks:
            self.verifier = auth.verifier_for(config)
        self.meter = metrics.of(self.container)
        self._started = {}  # request message → its arrival (time.perf_counter)

    def handle_message(self, body, message):
        started = time.perf_counter()
        if self.checks:
            try:
                operator = self.verifier.verify(
                    self.unpack_message_headers(message).get(auth.CONTEXT_KEY)
                )
                auth.require_role(
                    operator,
                    self.roles,
                    f"{self.container.service_name}.{self.method_name}",
                    stations=self.stations,
                )
            except ServiceError:
                self.rpc_consumer.handle_result(message, None, sys.exc_info())
                self.meter.rpc_done(self.method_name, metrics.REFUSED, started)
                return
        self._started[message] = started
        try:
            super().handle_message(body, message)
        except Exception:  # a bad signature: nameko answers it, no worker ran
            self._started.pop(message, None)
            self.meter.rpc_done(self.method_name, metrics.REFUSED, started)
            raise

    def handle_result(self, message, worker_ctx, result, exc_info):
        exc_info = finish_unit_of_work(self.container, worker_ctx, exc_info)
        if self.retries.should_retry(message, exc_info):
            self.retries.later(
                message, functools.partial(self._run_again, message, worker_ctx), exc_info
            )
            return None, exc_info
        if exc_info is not None:
            result = None
        result, exc_info = super().handle_result(message, worker_ctx, result, exc_info)
        started = self._started.pop(message, None)
        if started is not None:
            self.meter.rpc_done(
                self.method_name, metrics.rpc_outcome(exc_info, self.expected_exceptions), started
            )
        return result, exc_info

    def _run_again(self, message, worker_ctx):
        try:
            self.container.spawn_worker(
                self,
                worker_ctx.args,
                worker_ctx.kwargs,
                context_data=dict(worker_ctx.data),
                handle_result=functools.partial(self.handle_result, message),
            )
        except ContainerBeingKilled:
            self._started.pop(message, None)
            self.rpc_consumer.requeue_message(message)

    @property
    def retries(self):
        if getattr(self, "_retries", None) is None:
            self._retries = RpcRetries(
                self.container, f"{self.container.service_name}.{self.method_name}"
            )
        return self._retries


rpc = Rpc.decorator


def dead_letter_names(service):
    return f"{service}.dlx", f"{service}.dlq"


def _passive(name):
    """An exchange of somebody else's, only looked up: a service may not declare (configure)
    it (shared/data/broker_access.yaml); ``ensure_exchange`` made sure it exists."""
    return Exchange(name, type="topic", durable=True, passive=True)


def ensure_exchange(connection, name):
    """Make sure the topic exchange ``name`` exists: looked up (no right needed), declared
    only when missing, which an administrator (``vetctl broker init``, or a test's guest)
    may do and a service's own user may not, for anybody's exchange but its own."""
    try:
        _passive(name)(connection.channel()).declare()
    except NotFound:
        Exchange(name, type="topic", durable=True)(connection.channel()).declare()


def quorum_queue(name, events, service, delivery_limit):
    """A handler's queue, bound to each ``(source, event_type)`` of ``events``."""
    dlx, _ = dead_letter_names(service)
    bindings = [
        binding(_passive(f"{source}.events"), routing_key=event_type)
        for source, event_type in events
    ]
    return Queue(
        name,
        bindings=bindings,
        durable=True,
        auto_delete=False,
        exclusive=False,
        queue_arguments={
            "x-queue-type": "quorum",
            "x-delivery-limit": int(delivery_limit),
            "x-dead-letter-exchange": dlx,
            # Dead letters keep the queue they came from, so a replay can
            # go back to exactly that handler.
            "x-dead-letter-routing-key": name,
        },
    )


def declare_dead_letters(connection, service):
    dlx_name, dlq_name = dead_letter_names(service)
    dlx = Exchange(dlx_name, type="topic", durable=True)
    dlq = Queue(
        dlq_name,
        exchange=dlx,
        routing_key="#",
        durable=True,
        queue_arguments={"x-queue-type": "quorum"},
    )
    dlq(connection.default_channel).declare()


class InboxEventHandler(EventHandler):
    """``also`` binds more ``(source, event_type)`` pairs to the same queue, for a handler
    that treats many events alike (one queue, not one per type)."""

    queue_consumer = GuardedQueueConsumer()
    boundary_problem = staticmethod(boundary.event_problem)

    def __init__(self, source_service, event_type, also=(), **kwargs):
        kwargs.setdefault("requeue_on_error", True)
        self.also = tuple(also)
        super().__init__(source_service, event_type, **kwargs)

    @property
    def events(self):
        return ((self.source_service, self.event_type), *self.also)

    def queue_name(self, service, method_name):
        if self.also:
            return f"evt-many--{service}.{method_name}"
        return f"evt-{self.source_service}-{self.event_type}--{service}.{method_name}"

    def setup(self):
        super().setup()
        config = self.container.config
        service = self.container.service_name
        limit = config.get("DELIVERY_LIMIT", DEFAULT_DELIVERY_LIMIT)
        self.queue = quorum_queue(
            self.queue_name(service, self.method_name), self.events, service, limit
        )
        # The dead-letter exchange must exist before anything is dead-lettered into it,
        # or RabbitMQ drops the message.
        with Connection(amqp_uri(config)) as connection:
            for source in {source for source, _ in self.events}:
                ensure_exchange(connection, f"{source}.events")
            declare_dead_letters(connection, service)
        self.meter = metrics.of(self.container)

    def count_refusal(self, message):
        self.meter.dead_lettered(self.method_name, metrics.REFUSED)

    def count(self, messages, exc_info):
        """Metrics of a run over ``messages``: handled, or failed (and, for one message on
        its last delivery, given up: the broker dead-letters it)."""
        if exc_info is None:
            self.meter.handled(self.method_name, len(messages))
            return
        self.meter.failed(self.method_name, len(messages))
        if len(messages) == 1 and metrics.given_up(messages[0], self.container.config):
            self.meter.dead_lettered(self.method_name, metrics.GIVEN_UP)

    def handle_result(self, message, worker_ctx, result=None, exc_info=None):
        exc_info = finish_unit_of_work(self.container, worker_ctx, exc_info)
        if self.transient.should_retry(message, exc_info):
            self.meter.failed(self.method_name)
            body = worker_ctx.args[0]
            self.transient.later(message, lambda: self.handle_message(body, message), exc_info)
            return result, exc_info
        self.count([message], exc_info)
        return super().handle_result(message, worker_ctx, result, exc_info)

    @property
    def transient(self):
        if getattr(self, "_transient", None) is None:
            self._transient = TransientRetries(
                self.container, f"{self.container.service_name}.{self.method_name}"
            )
        return self._transient


DEFAULT_BATCH_PREFETCH = 200


class BatchQueueConsumer(GuardedQueueConsumer):
    """The batch handlers' own consumer (its own channel): nameko's prefetch is
    ``max_workers`` per consumer, which would cap a batch at that many messages and leave
    one worker waiting on a round trip per handful of events."""

    @property
    def prefetch_count(self):
        return int(self.container.config.get("BATCH_PREFETCH", DEFAULT_BATCH_PREFETCH))


class BatchInboxEventHandler(InboxEventHandler):
    """Takes the messages waiting in its queue (up to the consumer's prefetch) into one
    worker and one transaction, for handlers whose work per event is small (a projection).
    A batch that fails is tried again message by message, so a poison message goes to the
    dead-letter queue alone and the others still land. A batch is at most
    ``BATCH_PREFETCH`` messages (default 200)."""

    queue_consumer = BatchQueueConsumer()

    def __init__(self, source_service, event_type, linger=0.01, **kwargs):
        self.linger = linger
        super().__init__(source_service, event_type, **kwargs)

    def setup(self):
        super().setup()
        self._waiting, self._flush_due = [], False

    def handle_message(self, body, message):
        self._waiting.append((body, message))
        if not self._flush_due:
            self._flush_due = True
            self.container.spawn_managed_thread(self._flush)

    def _flush(self):
        eventlet.sleep(self.linger)  # let the messages already on their way join
        batch, self._waiting, self._flush_due = self._waiting, [], False
        self.meter.batch(self.method_name, len(batch))
        self._spawn(batch)

    def _spawn(self, batch):
        bodies, messages = [b for b, _ in batch], [m for _, m in batch]
        try:
            self.container.spawn_worker(
                self,
                (bodies,),
                {},
                context_data=self.unpack_message_headers(messages[0]),
                handle_result=functools.partial(self.handle_batch_result, batch),
            )
        except ContainerBeingKilled:
            for message in messages:
                self.queue_consumer.requeue_message(message)

    def handle_batch_result(self, batch, worker_ctx, result=None, exc_info=None):
        exc_info = finish_unit_of_work(self.container, worker_ctx, exc_info)
        key = batch[0][1]  # a batch is retried whole, keyed by its first message
        if self.transient.should_retry(key, exc_info):
            self.meter.failed(self.method_name, len(batch))
            self.transient.later(key, lambda: self._spawn(batch), exc_info)
            return result, exc_info
        self.count([message for _, message in batch], exc_info)
        if exc_info is None:
            for _, message in batch:
                self.queue_consumer.ack_message(message)
        elif len(batch) > 1:
            for item in batch:
                self._spawn([item])
        else:
            self.queue_consumer.requeue_message(batch[0][1])
        return result, exc_info


def _store_of(service):
    for klass in type(service).__mro__:
        for name, attr in vars(klass).items():
            if isinstance(attr, Database):
                return getattr(service, name)
    raise TypeError(f"{type(service).__name__} needs a Database dependency for its inbox")


def event_handler(source_service, event_type, **kwargs):
    """``@event_handler("registry", "veteran_registered")`` on ``def m(self, event)``;
    ``also=[(source, type), ...]`` feeds more event types through the same queue."""

    def decorate(fn):
        @functools.wraps(fn)
        def run_once(self, body):
            event = load_event(body)
            handler = f"{self.name}.{fn.__name__}"
            if not _store_of(self).claim(handler, event.event_id):
                log.info("inbox.duplicate_skipped", handler=handler, event_id=event.event_id)
                return None
            return fn(self, event)

        return InboxEventHandler.decorator(source_service, event_type, **kwargs)(run_once)

    return decorate


def batch_event_handler(source_service, event_type, **kwargs):
    """Like ``event_handler`` but ``def m(self, events)`` gets a list: the batch's events not
    seen before (the inbox rows for all of them are written in one statement)."""

    def decorate(fn):
        @functools.wraps(fn)
        def run_once(self, bodies):
            events = [load_event(body) for body in bodies]
            handler = f"{self.name}.{fn.__name__}"
            fresh = _store_of(self).claim_many(handler, [e.event_id for e in events])
            if len(fresh) < len(events):
                log.info(
                    "inbox.duplicates_skipped", handler=handler, count=len(events) - len(fresh)
                )
            new, seen = [], set()
            for event in events:
                if event.event_id in fresh and event.event_id not in seen:
                    seen.add(event.event_id)
                    new.append(event)
            return fn(self, new) if new else None

        return BatchInboxEventHandler.decorator(source_service, event_type, **kwargs)(run_once)

    return decorate


def handler_queues(service_cls, config):
    """The queues a service's inbox handlers consume, as their entrypoints declare them."""
    limit = config.get("DELIVERY_LIMIT", DEFAULT_DELIVERY_LIMIT)
    queues = []
    for attr in (getattr(service_cls, name) for name in dir(service_cls)):
        for entrypoint in getattr(attr, "nameko_entrypoints", ()):
            if isinstance(entrypoint, InboxEventHandler):
                queues.append(
                    quorum_queue(
                        entrypoint.queue_name(service_cls.name, attr.__name__),
                        entrypoint.events,
                        service_cls.name,
                        limit,
                    )
                )
    return queues


def declare_topology(service_cls, config):
    """Declare a service's handler queues and dead letters before any producer runs, so
    that no event published while the consumer is still starting is unroutable."""
    with Connection(amqp_uri(config)) as connection:
        declare_dead_letters(connection, service_cls.name)
        for queue in handler_queues(service_cls, config):
            for bound in queue.bindings:
                ensure_exchange(connection, bound.exchange.name)
            queue(connection.default_channel).declare()
    return handler_queues(service_cls, config)
