"""shared/webserver.py without a broker or a database: its limits from config, a read
deadline a trickling client cannot stretch, and an accept loop that outlives accept errors."""

import errno
import socket
import time

import eventlet
import pytest
from eventlet.semaphore import Semaphore
from nameko.exceptions import ConfigurationError

from shared.webserver import DeadlineReader, GuardedWebServer, Limits, limits_from


def test_limits_default_and_read_the_config_as_nameko_run_gives_it():
    assert limits_from({}) == Limits(
        header_timeout=10.0, body_timeout=30.0, max_connections=200, backlog=511
    )
    given = {
        "HTTP_HEADER_TIMEOUT": "1.5",
        "HTTP_BODY_TIMEOUT": 2,
        "HTTP_MAX_CONNECTIONS": "20",
        "HTTP_BACKLOG": 64,
    }
    assert limits_from(given) == Limits(1.5, 2.0, 20, 64)


@pytest.mark.parametrize(
    "key,value",
    [
        ("HTTP_HEADER_TIMEOUT", 0),
        ("HTTP_BODY_TIMEOUT", "-1"),
        ("HTTP_MAX_CONNECTIONS", "2.5"),
        ("HTTP_BACKLOG", "many"),
    ],
)
def test_a_limit_that_is_not_a_positive_number_is_a_configuration_error(key, value):
    with pytest.raises(ConfigurationError, match=key):
        limits_from({key: value})


def trickle(sock, data, pace):
    for byte in data:
        try:
            sock.sendall(bytes([byte]))
        except OSError:
            return
        eventlet.sleep(pace)  # the trickling client's pace: the scenario


@pytest.mark.parametrize("sent,phase", [(b"", "idle"), (b"GET / HTTP/1.1\r\nHost: x" * 10, "head")])
def test_a_deadline_cuts_a_trickling_client_however_often_it_sends(sent, phase):
    ours, theirs = socket.socketpair()
    expired = []
    reader = DeadlineReader(ours, 5.0, expired.append)
    writer = eventlet.spawn(trickle, theirs, sent, 0.02)
    reader.start("head", 0.3)
    started, got = time.monotonic(), b""
    try:
        with pytest.raises(socket.timeout):
            while True:
                buffer = bytearray(64)
                got += bytes(buffer[: reader.readinto(buffer)])
        took = time.monotonic() - started
    finally:
        writer.kill()
        ours.close()
        theirs.close()
    assert 0.3 <= took < 0.6, took
    assert expired == [phase] and reader.expired
    assert got == sent[: len(got)] and (got or not sent)
    assert ours.gettimeout() == 5.0  # writes wait for their own timeout again


class FakeListener:
    """accept() raises the errors given, then hands out one end of a socketpair."""

    def __init__(self, *errors):
        self.errors, self.pairs = list(errors), []

    def accept(self):
        if self.errors:
            raise OSError(self.errors.pop(0), "injected")
        self.pairs.append(socket.socketpair())
        return self.pairs[-1][0], ("127.0.0.1", 40000)


class FakeContainer:
    def __init__(self, server):
        self.server, self.config, self.spawned = server, {}, []

    def spawn_managed_thread(self, fn, identifier=None):
        self.spawned.append(identifier)
        self.server._is_accepting = False  # one connection is enough


def test_accept_errors_are_counted_and_waited_out_and_the_loop_goes_on():
    server = GuardedWebServer()
    server.container = FakeContainer(server)
    server.setup()
    server._slots = Semaphore(server.limits.max_connections)
    server._sock = FakeListener(errno.EMFILE, errno.ECONNABORTED, errno.EMFILE, errno.EPROTO)
    server._serv = type("Serv", (), {"socket_timeout": 1.0})()
    started = time.monotonic()
    try:
        server.run()  # returns: nothing it met was raised
        took = time.monotonic() - started
    finally:
        for pair in server._sock.pairs:
            for sock in pair:
                sock.close()
    assert server.accept_errors == {"EMFILE": 2, "ECONNABORTED": 1, "EPROTO": 1}
    assert server.container.spawned == ["http.connection"] and server.open_connections == 1
    assert took >= 0.05 + 0.1 + 0.2 + 0.4  # backed off, doubling, after each error
    assert server._slots.balance == server.limits.max_connections - 1  # a slot per connection
