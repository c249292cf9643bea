"""Health of this process, over HTTP, off the worker pool: what container probes call.

    GET /healthz   200 while the process runs (its event loop answers)
    GET /readyz    200 when this process's own broker consumers are connected, its
                   database answers and its relay thread lives; else 503 naming what
                   is not ready
    GET /metrics   this container's Prometheus metrics (``shared.metrics``)

An RPC ``health()`` is answered by any replica and takes a worker slot; these answer for
this process only, from a green thread of their own. The address is ``HEALTH_ADDRESS``
(``host:port``; port 0 picks a free one, ``off`` serves none); replicas on one machine
need ports of their own."""

import json

import eventlet
import eventlet.wsgi
import structlog
from nameko.extensions import DependencyProvider

from shared import metrics

log = structlog.get_logger(__name__)


class _Quiet:
    def write(self, *args):  # eventlet.wsgi's access log: not wanted for probes
        pass


class Probes(DependencyProvider):
    """Serves /healthz, /readyz and /metrics for its container (see the module's docstring)."""

    def setup(self):
        self.address = str(self.container.config.get("HEALTH_ADDRESS") or "127.0.0.1:0")
        self.socket, self.port, self._server = None, None, None

    def start(self):
        if self.address.lower() == "off":
            return
        host, _, port = self.address.rpartition(":")
        self.socket = eventlet.listen((host or "127.0.0.1", int(port)))
        self.port = self.socket.getsockname()[1]
        self._server = self.container.spawn_managed_thread(self._serve)
        log.info("probes.listening", host=host, port=self.port)

    def _serve(self):
        eventlet.wsgi.server(
            self.socket,
            self._app,
            log=_Quiet(),
            log_output=False,
            socket_timeout=5,
            keepalive=False,
        )

    def stop(self):
        self._close()

    def kill(self):
        self._close()

    def _close(self):
        metrics.close(self.container)
        if self._server is not None:
            self._server.kill()
            self._server = None
        if self.socket is not None:
            self.socket.close()
            self.socket = None

    def get_dependency(self, worker_ctx):
        return self

    # -- the checks ------------------------------------------------------------------------
    def problems(self):
        """What keeps this process from being ready; empty when it is."""
        found = []
        consumers = [e for e in self.container.subextensions if hasattr(e, "connected")]
        if not consumers or not all(c.connected for c in consumers):
            found.append("broker: a consumer is not connected")
        for dependency in self.container.dependencies:
            check = getattr(dependency, "ready_problem", None)
            if check is not None:
                problem = check()
                if problem:
                    found.append(problem)
        return found

    def _app(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            status, body = "405 Method Not Allowed", {"error": "method_not_allowed"}
        elif path == "/healthz":
            status, body = "200 OK", {"status": "alive", "service": self.container.service_name}
        elif path == "/metrics":
            data = metrics.of(self.container).exposition()
            start_response(
                "200 OK",
                [("Content-Type", metrics.CONTENT_TYPE), ("Content-Length", str(len(data)))],
            )
            return [data]
        elif path == "/readyz":
            problems = self.problems()
            status = "503 Service Unavailable" if problems else "200 OK"
            body = {
                "status": "not_ready" if problems else "ready",
                "service": self.container.service_name,
                "problems": problems,
            }
        else:
            status, body = "404 Not Found", {"error": "not_found"}
        data = json.dumps(body).encode()
        start_response(
            status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
        )
        return [data]
