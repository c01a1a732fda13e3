"""The scoring server that goes into every image (Python standard library only, 3.8+).

Contract (spec/scoring.md), as the 2017 runtime kept it:
  GET  /              200 once the driver's init() has returned; 503 while it runs or if it failed
                      (then with the error and the traceback's last lines)
  POST /score         run(body) without a schema; with one, run(**arguments) typed by the schema
                      (a body that does not fit it is a 400 naming what to fix). The result is
                      always JSON-encoded, a string included.
  GET  /swagger.json  the service's Swagger, each argument from its schema with its example

A driver exception in run() is that request's 500 with a JSON error; the server goes on. The 2017
runtime modules (`azureml.*`, and `azure.ml.api.*` for the earliest files) sit beside this file, so
drivers import them unchanged.

Settings (environment):
  AML_APP_ROOT   the app directory holding the driver, its assets and the models (/var/azureml-app)
  AML_DRIVER     the driver file, relative to AML_APP_ROOT (score.py)
  AML_SCHEMA     the schema file, relative to AML_APP_ROOT (service_schema.json, used when present)
  AML_SERVICE_NAME  the service's name, as the title of its Swagger
  AML_HOST       the address to listen on (0.0.0.0)
  AML_PORT       the port to listen on (5001)
  AML_MAX_BODY_BYTES  the largest request body accepted (104857600)
  AML_EXIT_WITH_PARENT  when 1, exit once the process that started the server is gone (the local
                        runtime sets it, so that no replica outlives a killed runtime)
  AML_KEYS_DIR   when set, POST /score needs "Authorization: Bearer <key>" with the key in the
                 directory's primaryKey or secondaryKey file (a Kubernetes Secret volume on AKS;
                 locally the gateway checks keys instead). A changed file counts from the next request.
  AML_MAX_CONCURRENT_REQUESTS  when set, at most this many requests run the driver at once; the
                 excess waits a short while in a bounded queue, then gets a 503 with Retry-After
  AML_MODEL_DC_STORAGE_ENABLED  with "true", ModelDataCollector.collect() rows go to the pipe
                 AML_MODEL_DC_PIPE_FD names (the local runtime reads it); otherwise they are dropped
  AML_APP_INSIGHTS_ENABLED  with "true" and APPLICATIONINSIGHTS_CONNECTION_STRING, every scoring
                 request is sent to Application Insights as a request (the ingestion API, in
                 batches every few seconds, from a background thread)
"""

import hmac
import json
import os
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aml_server.driver import Driver, encode_result, log
from aml_server.request_body import BadBody, BodyTooLarge, discard_body, read_body
from aml_server.service_input import BadInput, swagger_document
from aml_server.telemetry import RequestTelemetry
from azureml import _compat

APP_ROOT = os.environ.get("AML_APP_ROOT", "/var/azureml-app")
DRIVER = os.environ.get("AML_DRIVER", "score.py")
SCHEMA = os.environ.get("AML_SCHEMA", "service_schema.json")
HOST = os.environ.get("AML_HOST", "0.0.0.0")
PORT = int(os.environ.get("AML_PORT", "5001"))
MAX_BODY_BYTES = int(os.environ.get("AML_MAX_BODY_BYTES", str(100 * 1024 * 1024)))
KEYS_DIR = os.environ.get("AML_KEYS_DIR")
MAX_CONCURRENT = int(os.environ.get("AML_MAX_CONCURRENT_REQUESTS") or 0)
# Past this, a request still in run() makes the service report itself unhealthy (the gateway, or
# Kubernetes' liveness probe, then recycles it): a hung run() must not hide behind a healthy "/".
REQUEST_TIMEOUT_SECONDS = float(os.environ.get("AML_REQUEST_TIMEOUT_SECONDS") or 60)
SOCKET_TIMEOUT_SECONDS = 30
QUEUE_WAIT_SECONDS = 5.0
QUEUE_PER_SLOT = 10


class Keys:
    """The service's keys, from files that Kubernetes swaps atomically when the Secret changes."""

    def __init__(self, directory):
        self._directory = directory
        self._lock = threading.Lock()
        self._read_at = 0.0
        self._keys = []

    def accepts(self, header):
        if not header.startswith("Bearer "):
            return False
        presented = header[len("Bearer "):].strip().encode("utf-8")
        return any(hmac.compare_digest(presented, key) for key in self._current())

    def _current(self):
        # Read at most every half second: cheap enough per request, quick enough after a regeneration.
        with self._lock:
            now = time.monotonic()
            if now - self._read_at > 0.5:
                keys = []
                for name in ("primaryKey", "secondaryKey"):
                    try:
                        with open(os.path.join(self._directory, name), "rb") as f:
                            value = f.read().strip()
                        if value:
                            keys.append(value)
                    except OSError:
                        pass
                self._keys = keys
                self._read_at = now
            return self._keys


class Admission:
    """At most `limit` requests run at once; a bounded number wait, the rest are turned away."""

    def __init__(self, limit):
        self._slots = threading.BoundedSemaphore(limit)
        self._waiting = 0
        self._max_waiting = limit * QUEUE_PER_SLOT
        self._lock = threading.Lock()

    def enter(self):
        if self._slots.acquire(blocking=False):
            return True
        with self._lock:
            if self._waiting >= self._max_waiting:
                return False
            self._waiting += 1
        try:
            return self._slots.acquire(timeout=QUEUE_WAIT_SECONDS)
        finally:
            with self._lock:
                self._waiting -= 1

    def leave(self):
        self._slots.release()


def make_handler(driver, swagger_bytes, keys=None, admission=None, telemetry=None):
    class ScoringHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "azureml-scoring"
        sys_version = ""
        # Headers and body leave in one write, with Nagle off: on a keep-alive connection, two
        # small writes would otherwise wait for the client's delayed ACK (~40 ms a request).
        disable_nagle_algorithm = True
        wbufsize = 64 * 1024
        # A client that stalls mid-request (or idles on a keep-alive connection) lets go of its
        # thread after this long, instead of holding it forever.
        timeout = SOCKET_TIMEOUT_SECONDS

        def log_message(self, format, *args):  # noqa: A002 - the base class's name
            pass  # no access log: it would cost more than the request

        def _send(self, status, body, content_type="application/json"):
            if isinstance(body, str):
                body = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            if status == 503:
                self.send_header("Retry-After", "1")
            self.end_headers()
            self.wfile.write(body)
            return status

        def _json(self, status, value):
            return self._send(status, json.dumps(value))

        def do_GET(self):  # noqa: N802 - http.server's naming
            path = self.path.split("?", 1)[0]
            if path == "/":
                stuck = driver.stuck_for(REQUEST_TIMEOUT_SECONDS)
                if driver.state == "ready" and stuck:
                    self._json(503, {"status": "stuck", "error": "run() has not returned for %d s" % stuck})
                elif driver.state == "ready":
                    self._json(200, {"status": "healthy"})
                elif driver.state == "failed":
                    self._json(503, {"status": "failed", "error": driver.error, "details": driver.details})
                else:
                    self._json(503, {"status": "starting"})
            elif path == "/swagger.json":
                self._send(200, swagger_bytes)
            else:
                self._json(404, {"error": "Not found: %s" % path})

        def do_POST(self):  # noqa: N802
            path = self.path.split("?", 1)[0]
            try:
                body = read_body(self.rfile, self.headers, MAX_BODY_BYTES)
            except BodyTooLarge:
                discard_body(self.rfile, self.headers)
                self.close_connection = True
                return self._json(413, {"error": "The request body is larger than %d bytes." % MAX_BODY_BYTES})
            except BadBody as err:
                self.close_connection = True
                return self._json(400, {"error": "The request body is not well framed: %s." % err})
            except OSError:
                # The client went away or stalled past the socket timeout: nothing to answer.
                self.close_connection = True
                return None
            if path != "/score":
                return self._json(404, {"error": "Not found: %s" % path})
            if keys is not None and not keys.accepts(self.headers.get("Authorization") or ""):
                return self._send_unauthorized()
            if driver.state != "ready":
                return self._json(503, {"error": "The service is not ready: %s" % (driver.error or driver.state)})
            if telemetry is None:
                self._admitted(body)
                return None
            started = time.time()
            status = self._admitted(body)
            telemetry.request("POST /score", started, time.time() - started, status)
            return None

        def _admitted(self, body):
            if admission is not None:
                if not admission.enter():
                    self._json(503, {"error": "The service is busy; try again shortly."})
                    return 503
                try:
                    return self._run(body)
                finally:
                    admission.leave()
            return self._run(body)

        def _send_unauthorized(self):
            body = json.dumps({"error": "Authorization: Bearer <service key> is required, with a valid key."}).encode("utf-8")
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("WWW-Authenticate", 'Bearer realm="scoring"')
            self.end_headers()
            self.wfile.write(body)

        def _run(self, body):
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                return self._json(400, {"error": "The request body is not UTF-8 text."})
            try:
                result = driver.call(text, self.headers.get("x-ms-request-id"))
            except BadInput as err:
                return self._json(400, {"error": str(err)})
            except Exception as err:  # noqa: BLE001 - a driver failure is this request's error only
                log("run() failed:\n" + traceback.format_exc())
                return self._json(500, {"error": "%s: %s" % (type(err).__name__, err)})
            try:
                return self._send(200, encode_result(result))
            except (TypeError, ValueError) as err:
                return self._json(500, {"error": "run() returned a value that is not JSON-serialisable: %s" % err})

    return ScoringHandler


class ScoringServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # A client that hangs up mid-request is routine (load generators, proxies closing idle
        # connections): not worth a traceback in the service's log. Anything else is.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


def read_schema_document(path):
    """The schema file as JSON (for Swagger: its `swagger` parts only, never the pickles)."""
    if not os.path.isfile(path):
        return None
    try:
        with open(path, "r", encoding="utf-8") as f:
            document = json.load(f)
        return document if isinstance(document, dict) else None
    except (OSError, ValueError) as err:
        log("schema %s not usable for Swagger: %s" % (path, err))
        return None


def apply_limits():
    """Limits the local runtime asks for (from the service's reservation), set on this process
    before any driver code runs, hard and soft alike so the driver cannot raise them: its memory
    (private data: heap and anonymous mappings) and open files."""
    import resource

    memory = os.environ.get("AML_LIMIT_MEMORY_BYTES")
    if memory:
        resource.setrlimit(resource.RLIMIT_DATA, (int(memory), int(memory)))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    cap = 4096 if hard == resource.RLIM_INFINITY else min(hard, 4096)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, cap) if soft != resource.RLIM_INFINITY else cap, cap))


def exit_with_parent():
    parent = os.getppid()

    def watch():
        while True:
            if os.getppid() != parent:
                os._exit(0)
            threading.Event().wait(1.0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main():
    if os.environ.get("AML_EXIT_WITH_PARENT") == "1":
        exit_with_parent()
    apply_limits()
    os.chdir(APP_ROOT)
    if APP_ROOT not in sys.path:
        sys.path.insert(0, APP_ROOT)
    _compat.install()
    driver = Driver(APP_ROOT, DRIVER, SCHEMA)
    swagger = json.dumps(swagger_document(read_schema_document(os.path.join(APP_ROOT, SCHEMA)), os.environ.get("AML_SERVICE_NAME") or "scoring service")).encode("utf-8")
    keys = Keys(KEYS_DIR) if KEYS_DIR else None
    admission = Admission(MAX_CONCURRENT) if MAX_CONCURRENT > 0 else None
    connection = os.environ.get("APPLICATIONINSIGHTS_CONNECTION_STRING")
    telemetry = RequestTelemetry(connection) if connection and os.environ.get("AML_APP_INSIGHTS_ENABLED") == "true" else None
    server = ScoringServer((HOST, PORT), make_handler(driver, swagger, keys, admission, telemetry))
    log("listening on %s:%d" % (HOST, server.server_address[1]))
    driver.start()
    try:
        server.serve_forever(poll_interval=0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
