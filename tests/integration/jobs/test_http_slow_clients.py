"""Slow and hostile HTTP clients against jobs on the real servers (shared/webserver.py):
half-open connections are cut at the head deadline while RPCs and the bureau's signed
requests are answered, a body that never finishes is answered 408 and cut at the body
deadline, the connection cap holds, and an accept error (EMFILE) is a warning and a
backoff, never a dead service."""

import contextlib
import json
import math
import os
import resource
import socket
import time

import eventlet
import pytest
import requests
from nameko.testing.utils import get_container

from services.jobs.service import JobsService
from shared.webserver import GuardedWebServer
from tests.helpers import scalar, wait_for
from tests.integration.jobs.conftest import BUREAU_SECRET as SECRET
from tests.integration.jobs.conftest import bureau_headers

HALF_OPEN = 500
# What a half-open client sends before it stops: nothing, part of a request line, a request
# line and part of the headers.
PARTIAL = (
    b"",
    b"GET /bureau/plac",
    b"POST /bureau/postings HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Bureau-Time",
)
PACE = 0.1  # seconds between the bytes of a trickling client: how it behaves, not a wait


def serve(start, **config):
    """(port, GuardedWebServer, container) of jobs started with ``config``."""
    runner = start(JobsService, BUREAU_HMAC_SECRETS=SECRET, **config)
    container = get_container(runner, JobsService)
    server = next(e for e in container.extensions if isinstance(e, GuardedWebServer))
    return server._sock.getsockname()[1], server, container


@contextlib.contextmanager
def files_for(count):
    """The soft RLIMIT_NOFILE raised (up to the hard limit) so that ``count`` more files fit
    in this process, which holds both ends of every connection; restored afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = len(os.listdir("/proc/self/fd")) + count + 100
    if hard != resource.RLIM_INFINITY and wanted > hard:
        pytest.fail(f"{wanted} files needed, the hard RLIMIT_NOFILE is {hard}")
    if soft != resource.RLIM_INFINITY and wanted > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def half_open(port, partial):
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    if partial:
        sock.sendall(partial)
    sock.setblocking(False)
    return sock


def closed_by_server(sock):
    """True once the server has closed ``sock`` (EOF or reset); never waits."""
    try:
        return sock.recv(65536) == b""
    except BlockingIOError:
        return False
    except ConnectionError:
        return True


def read_until_closed(sock, timeout=15.0, feed=b""):
    """Everything the server sends until it closes, sending ``feed`` a byte every PACE
    seconds meanwhile (a client that trickles); (bytes, seconds it took)."""
    sock.setblocking(False)
    started, received = time.monotonic(), b""
    while time.monotonic() - started < timeout:
        try:
            chunk = sock.recv(65536)
        except BlockingIOError:
            chunk = None
        except ConnectionError:
            break
        if chunk == b"":
            break
        received += chunk or b""
        if feed and not received:
            try:
                sock.send(feed[:1])
            except OSError:
                pass
            feed = feed[1:]
        # The slow client's pace while it feeds; then a short poll of the non-blocking
        # socket until the server closes it (the loop measures how long that takes).
        eventlet.sleep(PACE if feed else 0.01)
    return received, time.monotonic() - started


def timed(call, *args, **kwargs):
    started = time.monotonic()
    result = call(*args, **kwargs)
    return result, time.monotonic() - started


def test_500_half_open_connections_are_cut_at_the_deadline_and_sink_neither_rpc_nor_bureau(
    start, rpc
):
    timeout = 2.0
    port, server, container = serve(start, HTTP_HEADER_TIMEOUT=timeout)
    cap = server.limits.max_connections  # the default, 200: most of the 500 wait their turn
    base = f"http://127.0.0.1:{port}"
    with files_for(2 * HALF_OPEN + 50):
        opened, closed, sockets = {}, {}, []
        try:
            started = time.monotonic()
            for i in range(HALF_OPEN):
                sockets.append(half_open(port, PARTIAL[i % len(PARTIAL)]))
                opened[sockets[-1]] = time.monotonic()
            opening = time.monotonic() - started
            health, health_s = timed(rpc.jobs.health)
            page, search_s = timed(rpc.jobs.search_jobs, {})
            assert not any(closed_by_server(s) for s in sockets)  # all open meanwhile
            # Connection: close, so that its connection is not one more left idle to time out.
            signed = bureau_headers("GET", "/bureau/placements?since=0")
            bureau = eventlet.spawn(
                timed,
                requests.get,
                f"{base}/bureau/placements?since=0",
                headers={**signed, "Connection": "close"},
                timeout=30,
            )

            def all_closed():
                for sock in sockets:
                    if sock not in closed and closed_by_server(sock):
                        closed[sock] = time.monotonic()
                return len(closed) == HALF_OPEN

            rounds = math.ceil((HALF_OPEN + 1) / cap)
            wait_for(
                all_closed,
                timeout=rounds * timeout + 15,
                interval=0.02,
                message="the server to close every half-open connection",
            )
            reply, bureau_s = bureau.wait()
        finally:
            for sock in sockets:
                sock.close()
    held = [closed[s] - opened[s] for s in sockets]
    print(
        f"\n500 half-open: opened in {opening:.2f} s; health() {health_s * 1000:.1f} ms, "
        f"search_jobs {search_s * 1000:.1f} ms while open; signed placements answered in "
        f"{bureau_s:.2f} s; held {min(held):.2f}–{max(held):.2f} s; all closed "
        f"{max(closed.values()) - started:.2f} s after the first; peak "
        f"{server.peak_connections}; timeouts {dict(server.timeouts)}"
    )
    assert health["service"] == "jobs" and page["total"] == 0
    assert health_s < 2 and search_s < 2
    assert reply.status_code == 200 and reply.json() == {"items": [], "next_cursor": 0}
    assert min(held) >= timeout - 0.05  # the deadline cut them, nothing sooner
    assert max(held) <= rounds * timeout + 5
    assert server.peak_connections == cap
    assert server.timeouts["idle"] + server.timeouts["head"] == HALF_OPEN
    assert server.accept_errors == {}
    wait_for(lambda: server.open_connections == 0, message="every connection released")
    assert rpc.jobs.health()["service"] == "jobs" and not container._died.ready()


def test_a_head_sent_a_byte_at_a_time_is_cut_at_the_deadline(start):
    port, server, _ = serve(start, HTTP_HEADER_TIMEOUT=1)
    head = b"GET /bureau/openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        received, took = read_until_closed(sock, timeout=10, feed=head)
    finally:
        sock.close()
    assert received == b""  # closed unanswered
    assert 1.0 <= took < 3.0, took  # every byte came within 0.1 s: only a deadline cuts it
    assert server.timeouts == {"head": 1}


@pytest.mark.parametrize("trickles", [False, True], ids=["stalls", "trickles"])
def test_a_body_that_never_finishes_is_answered_408_and_cut_at_the_deadline(start, db, trickles):
    port, server, _ = serve(start, HTTP_BODY_TIMEOUT=1)
    body = json.dumps({"postings": [{"bureau_posting_id": "JOB-1", "title": "x" * 100}]})
    body = body.encode()
    head = (
        "POST /bureau/postings HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        + "".join(
            f"{k}: {v}\r\n" for k, v in bureau_headers("POST", "/bureau/postings", body).items()
        )
        + "\r\n"
    )
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        sock.sendall(head.encode() + body[:10])
        # Never the last byte: the body never finishes.
        received, took = read_until_closed(sock, timeout=10, feed=body[10:-1] if trickles else b"")
    finally:
        sock.close()
    status, _, rest = received.partition(b"\r\n")
    headers, _, payload = rest.partition(b"\r\n\r\n")
    assert status.split()[:2] == [b"HTTP/1.1", b"408"], received
    assert b"Connection: close" in headers.split(b"\r\n")
    assert json.loads(payload)["error"] == "timeout"
    assert 1.0 <= took < 3.0, took
    assert server.timeouts == {"body": 1}
    assert scalar(db, "SELECT count(*) FROM jobs.postings") == 0


def test_a_refused_requests_unsent_body_is_not_waited_for_past_the_deadline(start):
    port, server, _ = serve(start, HTTP_BODY_TIMEOUT=1)
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:  # unsigned, so 401 before the body is read; the body never comes
        sock.sendall(
            b"POST /bureau/postings HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
        )
        first = sock.recv(65536)
        received, took = read_until_closed(sock, timeout=10)
    finally:
        sock.close()
    assert first.split()[:2] == [b"HTTP/1.1", b"401"]
    assert received == b"" and took < 3.0  # then closed at the body deadline, nothing more
    assert server.timeouts == {"body": 1}


def test_connections_over_the_cap_wait_in_the_backlog_and_are_served_in_turn(start):
    port, server, _ = serve(start, HTTP_HEADER_TIMEOUT=1, HTTP_MAX_CONNECTIONS=20)
    sockets = [half_open(port, PARTIAL[2]) for _ in range(50)]
    try:
        reply, took = timed(
            requests.get, f"http://127.0.0.1:{port}/bureau/openapi.json", timeout=30
        )
        wait_for(
            lambda: all(closed_by_server(s) for s in sockets),
            timeout=20,
            message="every half-open connection closed",
        )
    finally:
        for sock in sockets:
            sock.close()
    print(f"\ncap 20, 50 half-open: the document answered in {took:.2f} s")
    assert reply.status_code == 200 and reply.json()["openapi"].startswith("3.")
    assert took >= 1.5  # it waited for two rounds of 20 to time out: the cap held
    assert server.peak_connections == 20


def lowest_free_descriptor():
    fd = os.dup(0)  # the lowest number free, as every new file gets
    os.close(fd)
    return fd


def test_an_accept_error_is_a_warning_and_a_backoff_not_a_dead_service(start, rpc):
    port, server, container = serve(start)
    client = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # its file before the limit
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        # No descriptor left for the server: its accept() fails with EMFILE until restored.
        resource.setrlimit(resource.RLIMIT_NOFILE, (lowest_free_descriptor(), hard))
        client.connect(("127.0.0.1", port))
        client.sendall(
            b"GET /bureau/openapi.json HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
        )
        wait_for(
            lambda: server.accept_errors["EMFILE"] >= 2,
            timeout=10,
            message="the server to fail to accept, back off and fail again",
        )
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    try:
        received, _ = read_until_closed(client)
    finally:
        client.close()
    assert received.startswith(b"HTTP/1.1 200 OK")
    assert json.loads(received.partition(b"\r\n\r\n")[2])["openapi"].startswith("3.")
    assert rpc.jobs.health()["service"] == "jobs" and not container._died.ready()
    assert set(server.accept_errors) == {"EMFILE"}
