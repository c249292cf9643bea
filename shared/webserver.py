"""nameko's web server with limits a slow or hostile client cannot get past: a deadline for
the request head and one for the body, a cap on open connections, and accept errors
(EMFILE, ECONNABORTED, ...) met with a warning and a backoff instead of a dead container.

nameko's own ``WebServer`` sets no socket timeout, accepts without bound, and lets an accept
error end its thread, which kills the container (RPCs included)."""

import collections
import errno
import io
import time
from functools import partial
from logging import getLogger
from typing import Any

import eventlet
import structlog
from eventlet import wsgi
from eventlet.semaphore import Semaphore
from nameko.exceptions import ConfigurationError
from nameko.web.server import HttpOnlyProtocol, WebServer

log = structlog.get_logger(__name__)

Limits = collections.namedtuple("Limits", "header_timeout body_timeout max_connections backlog")
# (config key, Limits field, type, default): what services/jobs/config.yaml documents.
LIMIT_KEYS = (
    ("HTTP_HEADER_TIMEOUT", "header_timeout", float, 10.0),
    ("HTTP_BODY_TIMEOUT", "body_timeout", float, 30.0),
    ("HTTP_MAX_CONNECTIONS", "max_connections", int, 200),
    ("HTTP_BACKLOG", "backlog", int, 511),
)
ACCEPT_BACKOFF = (0.05, 1.0)  # seconds: the first wait after an accept error, the longest


def limits_from(config):
    """The server's Limits from config (defaults above); a value that is not a positive
    number is a ConfigurationError naming its key."""
    values = {}
    for key, field, kind, default in LIMIT_KEYS:
        raw = config.get(key)
        try:
            number = float(default if raw in (None, "") else raw)
        except (TypeError, ValueError):
            number = None
        if number is None or not number > 0 or (kind is int and not number.is_integer()):
            raise ConfigurationError(f"{key} must be a positive {kind.__name__}, not {raw!r}")
        values[field] = kind(number)
    return Limits(**values)


class DeadlineReader(io.RawIOBase):
    """A socket's reads against one deadline: each read may wait only for the time left,
    so a client that trickles a byte at a time runs out of time as surely as one that stops.
    Afterwards the socket's timeout is ``write_timeout`` again (what writes wait for)."""

    def __init__(self, sock, write_timeout, on_expired=None):
        super().__init__()
        self.sock, self.write_timeout, self.on_expired = sock, write_timeout, on_expired
        self.deadline, self.phase, self.received, self.expired = None, None, 0, False

    def start(self, phase, seconds):
        self.phase, self.deadline, self.received = phase, time.monotonic() + seconds, 0

    def readable(self):
        return True

    def readinto(self, buffer):
        left = None if self.deadline is None else self.deadline - time.monotonic()
        if left is not None and left <= 0:
            raise self._expire()
        self.sock.settimeout(left)
        try:
            count = self.sock.recv_into(buffer)
        except TimeoutError:
            raise self._expire() from None
        finally:
            self.sock.settimeout(self.write_timeout)
        self.received += count
        return count

    def _expire(self):
        # "idle": not a byte of the head came (a kept-alive connection not used again, or a
        # client that connects and says nothing).
        phase = "idle" if self.phase == "head" and not self.received else self.phase
        if not self.expired:
            self.expired = True
            if self.on_expired:
                self.on_expired(phase)
        return TimeoutError(f"the request {phase} did not arrive in time")


def _body_unread(request_input):
    if request_input.chunked_input:
        return request_input.chunk_length != 0
    return request_input.position < (request_input.content_length or 0)


class GuardedProtocol(HttpOnlyProtocol):
    """eventlet's HTTP protocol reading through a DeadlineReader: the head (request line
    and headers, and the wait for them on a kept-alive connection) within
    ``header_timeout``, then the body within ``body_timeout``. A head out of time is
    closed unanswered (eventlet's server closes on ``socket.timeout``); a body out of time
    is what the application answers (shared.http: 408), with ``Connection: close``. A body
    the application left unread is read off within the same deadline, as eventlet does to
    keep the connection, and the connection closed when it does not arrive."""

    application: Any  # eventlet's, set by wsgi.server

    def setup(self):
        # As eventlet's, but the read side is ours (no second file on the socket: a
        # makefile() never closed would keep the descriptor open).
        conn = self.connection = self.request
        self.reader = DeadlineReader(conn, self.server.socket_timeout, self._expired)
        self.rfile = io.BufferedReader(self.reader)
        self.wfile = conn.makefile("wb", self.wbufsize)

    def _read_request_line(self):
        self.reader.start("head", self.server.limits.header_timeout)
        return super()._read_request_line()

    def get_environ(self):
        environ = super().get_environ()
        self.reader.start("body", self.server.limits.body_timeout)
        request_input = environ["eventlet.input"]
        request_input.discard = partial(self._discard, request_input)
        return environ

    def handle_one_response(self):
        app = self.application

        def application(environ, start_response):
            def start(status, headers, exc_info=None):
                if self.reader.expired:
                    self.close_connection = 1  # eventlet then answers Connection: close
                return start_response(status, headers, exc_info)

            return app(environ, start)

        self.application = application
        super().handle_one_response()

    def _discard(self, request_input, buffer_size=16 << 10):
        try:
            while _body_unread(request_input) and request_input.read(buffer_size):
                pass
        except (OSError, ValueError):
            self.close_connection = 1

    def _expired(self, phase):
        self.server.timeouts[phase] += 1
        (log.debug if phase == "idle" else log.info)(
            "http.timed_out", phase=phase, client=self.client_address[0]
        )


class GuardedWebServer(WebServer):
    """nameko's WebServer with Limits (``limits_from(config)``): at most
    ``max_connections`` open at once (the next wait in a listen backlog of ``backlog``,
    beyond which the kernel refuses them), GuardedProtocol's deadlines, and an accept
    error a warning and a backoff. ``open_connections``, ``peak_connections``,
    ``accept_errors`` (by errno name) and ``timeouts`` (by phase: idle, head, body) say
    what it saw."""

    _starting: bool  # nameko's WebServer sets it

    def __init__(self):
        super().__init__()
        self.limits: Any = None  # ServerLimits, from the config in setup()
        self._slots: Any = None  # a Semaphore of limits.max_connections, in start()
        self.open_connections = self.peak_connections = 0
        self.accept_errors: collections.Counter[str] = collections.Counter()
        self.timeouts: collections.Counter[str] = collections.Counter()

    def setup(self):
        super().setup()
        self.limits = limits_from(self.container.config)

    def start(self):
        # nameko's, with the backlog ours (eventlet.listen's default is 50) and the slots.
        if not self._starting:
            self._starting = True
            self._slots = Semaphore(self.limits.max_connections)
            self._sock = eventlet.listen(self.bind_addr, backlog=self.limits.backlog)
            self._sock.settimeout(None)  # https://github.com/celery/kombu/issues/838
            self._serv = self.get_wsgi_server(self._sock, self.get_wsgi_app())
            self._gt = self.container.spawn_managed_thread(self.run)
            log.info(
                "http.listening",
                listen="{}:{}".format(*self._sock.getsockname()[:2]),
                **self.limits._asdict(),
            )

    def get_wsgi_server(self, sock, wsgi_app, protocol=GuardedProtocol, debug=False):
        # socket_timeout bounds each write of a response to a client that stops reading.
        server = wsgi.Server(
            sock,
            sock.getsockname(),
            wsgi_app,
            protocol=protocol,
            debug=debug,
            log=getLogger("nameko.web.server"),
            socket_timeout=self.limits.body_timeout,
        )
        server.limits, server.timeouts = self.limits, self.timeouts
        return server

    def run(self):
        backoff = 0.0
        while self._is_accepting:
            self._slots.acquire()  # at the cap, new connections wait in the backlog
            try:
                sock, address = self._sock.accept()
            except OSError as exc:
                self._slots.release()
                if not self._is_accepting:
                    break
                # EMFILE, ENFILE, ENOBUFS, ENOMEM, ECONNABORTED, EPROTO, ...: the listening
                # socket stays readable, so without a pause this would spin.
                backoff = min(max(backoff * 2, ACCEPT_BACKOFF[0]), ACCEPT_BACKOFF[1])
                name = errno.errorcode.get(exc.errno or 0, str(exc.errno))
                self.accept_errors[name] += 1
                log.warning(
                    "http.accept_failed",
                    error=name,
                    message=exc.strerror or str(exc),
                    retry_in=backoff,
                    open_connections=self.open_connections,
                )
                eventlet.sleep(backoff)
                continue
            backoff = 0.0
            self.open_connections += 1
            self.peak_connections = max(self.peak_connections, self.open_connections)
            try:
                sock.settimeout(self._serv.socket_timeout)
                self.container.spawn_managed_thread(
                    partial(self.process_request, sock, address), identifier="http.connection"
                )
            except BaseException:
                self._closed(sock)
                raise

    def process_request(self, sock, address):
        """One connection, to its end; nothing a client does ends the container."""
        try:
            self._serv.process_request([address, sock, wsgi.STATE_IDLE])
        except OSError as exc:  # reset, broken pipe, nameko#368: the client's doing
            log.info(
                "http.connection_failed",
                client=address[0],
                error=errno.errorcode.get(exc.errno or 0, type(exc).__name__),
            )
        except Exception:
            log.error("http.connection_failed", client=address[0], exc_info=True)
        finally:
            self._closed(sock)

    def _closed(self, sock):
        sock.close()
        self.open_connections -= 1
        self._slots.release()
