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
  AML_IDLE_TIMEOUT_SECONDS  how long a connection may stall mid-request, idle between requests or
                 leave its answers unread before it is closed (30)
  AML_EXIT_WITH_PARENT  when 1, exit once the process that started the server is gone (the local
                        runtime sets it, so that no replica outlives a killed runtime)
  AML_KEYS_DIR   when set, POST /score needs "Authorization: Bearer <key>" with the key in the
                 directory's primaryKey or secondaryKey file (a Kubernetes Secret volume on AKS;
                 locally the gateway checks keys instead). A changed file counts from the next request.
  AML_MAX_CONCURRENT_REQUESTS  when set, at most this many requests run the driver at once; the
                 excess waits a short while in a bounded queue, then gets a 503 with Retry-After
  AML_MODEL_DC_STORAGE_ENABLED  with "true", ModelDataCollector.collect() rows go to the pipe
                 AML_MODEL_DC_PIPE_FD names (the local runtime reads it); otherwise they are dropped
  AML_BATCH_MAX_SIZE, AML_BATCH_MAX_WAIT_MS  adaptive batching, when the driver defines
                 run_batch(inputs): concurrent requests are gathered into calls of up to this many
                 inputs, a request waiting at most this long for others (see Batcher)
  AML_HANDOFF_SERVICE  the service's name, when the local runtime's gateway hands this server
                 client connections over its IPC channel (NODE_CHANNEL_FD; see aml_server/handoff.py)
  AML_APP_INSIGHTS_ENABLED  with "true" and APPLICATIONINSIGHTS_CONNECTION_STRING, every scoring
                 request is sent to Application Insights as a request (the ingestion API, in
                 batches every few seconds, from a background thread)
"""

import asyncio
import collections
import concurrent.futures
import hmac
import json
import os
import sys
import threading
import time
import traceback

from aml_server.driver import Driver, encode_result, log
from aml_server.handoff import Handoff
from aml_server.http import HttpServer, Response
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
# A client that stalls mid-request, idles on a keep-alive connection or stops reading its answers
# is let go after this long.
SOCKET_TIMEOUT_SECONDS = float(os.environ.get("AML_IDLE_TIMEOUT_SECONDS") or 30)
QUEUE_WAIT_SECONDS = 5.0
QUEUE_PER_SLOT = 10
# Threads that run run() when no concurrency bound is set (with one, as many as it allows): more
# requests than this wait for a thread, in order.
DEFAULT_WORKERS = 32
# run() calls quicker than this (on average) run on the event loop rather than in a thread.
INLINE_BELOW_SECONDS = 0.002
BATCH_MAX_SIZE = int(os.environ.get("AML_BATCH_MAX_SIZE") or 0)
BATCH_MAX_WAIT_MS = float(os.environ.get("AML_BATCH_MAX_WAIT_MS") or 0)


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
    """At most `limit` requests run at once; a bounded number wait (each at most QUEUE_WAIT_SECONDS),
    the rest are turned away. Used from the event loop only."""

    def __init__(self, limit):
        self._free = limit
        self._waiters = collections.deque()
        self._max_waiting = limit * QUEUE_PER_SLOT

    def enter(self):
        """True when a slot is free now; False when the queue is full; else a future that says
        whether a slot came in time."""
        if self._free > 0:
            self._free -= 1
            return True
        if len(self._waiters) >= self._max_waiting:
            return False
        loop = asyncio.get_running_loop()
        waiter = loop.create_future()
        self._waiters.append(waiter)
        loop.call_later(QUEUE_WAIT_SECONDS, self._expire, waiter)
        return waiter

    def _expire(self, waiter):
        if not waiter.done():
            waiter.set_result(False)
            self._waiters.remove(waiter)

    def leave(self):
        # The slot goes straight to the next waiter, if any, so none can be overtaken.
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(True)
                return
        self._free += 1


class Batcher(object):
    """Gathers concurrent requests into calls of the driver's run_batch(inputs): one batch runs at
    a time, in a worker thread; the next one gathers meanwhile, and goes as soon as the one before
    is done and it has `max_size` inputs or its oldest has waited `max_wait` seconds. Under light
    load a request waits at most `max_wait`; under heavy load batches grow to `max_size` by
    themselves. Used from the event loop only."""

    def __init__(self, driver, pool, max_size, max_wait):
        self._driver = driver
        self._pool = pool
        self._max_size = max_size
        self._max_wait = max_wait
        self._queue = collections.deque()
        self._running = False
        self._timer = None

    def submit(self, item):
        """A future of (True, result) or (False, exception) for one input."""
        loop = asyncio.get_running_loop()
        answer = loop.create_future()
        self._queue.append((item, answer, loop.time()))
        self._kick(loop)
        return answer

    def _kick(self, loop):
        if self._running or not self._queue:
            return
        waited = loop.time() - self._queue[0][2]
        if len(self._queue) >= self._max_size or waited >= self._max_wait:
            self._dispatch(loop)
        elif self._timer is None:
            self._timer = loop.call_later(self._max_wait - waited, self._on_timer, loop)

    def _on_timer(self, loop):
        self._timer = None
        self._kick(loop)

    def _dispatch(self, loop):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch = [self._queue.popleft() for _ in range(min(self._max_size, len(self._queue)))]
        self._running = True
        done = loop.run_in_executor(self._pool, self._driver.call_batch, [item for item, _, _ in batch])
        done.add_done_callback(lambda finished: self._finished(loop, batch, finished))

    def _finished(self, loop, batch, finished):
        self._running = False
        error = finished.exception()
        answers = [(False, error)] * len(batch) if error is not None else finished.result()
        for (_, answer, _), result in zip(batch, answers):
            if not answer.done():
                answer.set_result(result)
        self._kick(loop)


class ScoringApp(object):
    """The scoring contract over HTTP: health, Swagger, and /score.

    Where run() runs is chosen from how long it takes. A quick run() (under INLINE_BELOW_SECONDS,
    on a moving average) runs on the event loop itself: handing each request to a thread and back
    costs more than the call, and with the GIL it halves throughput. A slow one runs in a pool of
    worker threads, so that health and other requests are answered meanwhile. The first call
    always goes to the pool (nothing is known yet), and one slow call moves the average past the
    bound at once, so the loop is held at most once, for that call.
    """

    def __init__(self, driver, swagger_bytes, keys=None, admission=None, telemetry=None, workers=DEFAULT_WORKERS, batching=None):
        self._driver = driver
        self._swagger = swagger_bytes
        self._keys = keys
        self._admission = admission
        self._telemetry = telemetry
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="run")
        # A moving average of run()'s duration in seconds; None until the first call ends.
        self._typical = None
        # (max_size, max_wait seconds) when the service batches; the Batcher once the driver is known to.
        self._batching = batching
        self._batcher = None

    def handle(self, request):
        if request.method == "GET":
            if request.path == "/":
                return self._health()
            if request.path == "/swagger.json":
                return Response(200, self._swagger)
            return json_response(404, {"error": "Not found: %s" % request.path})
        if request.method != "POST":
            return json_response(501, {"error": "Unsupported method %s." % request.method})
        if request.path != "/score":
            return json_response(404, {"error": "Not found: %s" % request.path})
        if self._keys is not None and not self._keys.accepts(request.headers.get("authorization") or ""):
            return json_response(
                401, {"error": "Authorization: Bearer <service key> is required, with a valid key."}, (("WWW-Authenticate", 'Bearer realm="scoring"'),)
            )
        driver = self._driver
        if driver.state != "ready":
            return json_response(503, {"error": "The service is not ready: %s" % (driver.error or driver.state)})
        if self._batching is not None:
            if driver.batches:
                self._batcher = self._batcher or Batcher(driver, self._pool, *self._batching)
                return self._score(request)
            log("batching is set (AML_BATCH_MAX_SIZE) but the driver defines no run_batch(inputs): requests run one by one")
            self._batching = None
        if self._quick() and self._telemetry is None:
            admitted = True if self._admission is None else self._admission.enter()
            if admitted is True:
                try:
                    return self._run(request.body, request.headers.get("x-ms-request-id"))
                finally:
                    if self._admission is not None:
                        self._admission.leave()
            return self._score(request, admitted)
        return self._score(request)

    def _quick(self):
        """Whether run() is quick enough (on average) to run on the event loop."""
        return self._typical is not None and self._typical < INLINE_BELOW_SECONDS

    def _health(self):
        driver = self._driver
        stuck = driver.stuck_for(REQUEST_TIMEOUT_SECONDS)
        if driver.state == "ready" and stuck:
            return json_response(503, {"status": "stuck", "error": "run() has not returned for %d s" % stuck})
        if driver.state == "ready":
            return json_response(200, {"status": "healthy"})
        if driver.state == "failed":
            return json_response(503, {"status": "failed", "error": driver.error, "details": driver.details})
        return json_response(503, {"status": "starting"})

    async def _score(self, request, admitted=None):
        started = time.time()
        admission = self._admission
        if admitted is None:
            admitted = True if admission is None else admission.enter()
        if not isinstance(admitted, bool):
            admitted = await admitted
        if not admitted:
            response = json_response(503, {"error": "The service is busy; try again shortly."})
        else:
            try:
                request_id = request.headers.get("x-ms-request-id")
                if self._batcher is not None:
                    response = await self._batched(request.body)
                elif self._quick():
                    response = self._run(request.body, request_id)
                else:
                    response = await asyncio.get_running_loop().run_in_executor(self._pool, self._run, request.body, request_id)
            finally:
                if admission is not None:
                    admission.leave()
        if self._telemetry is not None:
            self._telemetry.request("POST /score", started, time.time() - started, response.status)
        return response

    def _run(self, body, request_id):
        """One run(), on the event loop or in a worker thread: its answer, whatever happens in it."""
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return json_response(400, {"error": "The request body is not UTF-8 text."})
        started = time.monotonic()
        try:
            result = self._driver.call(text, request_id)
        except BadInput as err:
            return json_response(400, {"error": str(err)})
        except Exception as err:  # noqa: BLE001 - a driver failure is this request's error only
            log("run() failed:\n" + traceback.format_exc())
            return json_response(500, {"error": "%s: %s" % (type(err).__name__, err)})
        finally:
            # Updated from several threads at once, a lost update only delays the average a little.
            took = time.monotonic() - started
            typical = self._typical
            self._typical = took if typical is None or took > INLINE_BELOW_SECONDS else typical * 0.9 + took * 0.1
        return answer(result)

    async def _batched(self, body):
        """One request's answer through the batcher: its own 400 when its body does not fit, its
        own 500 when run_batch() (or run(), one by one) failed on its input."""
        try:
            item = self._driver.prepare(body.decode("utf-8"))
        except UnicodeDecodeError:
            return json_response(400, {"error": "The request body is not UTF-8 text."})
        except BadInput as err:
            return json_response(400, {"error": str(err)})
        ok, value = await self._batcher.submit(item)
        if not ok:
            log("run_batch() failed on an input: %s: %s" % (type(value).__name__, value))
            return json_response(500, {"error": "%s: %s" % (type(value).__name__, value)})
        return answer(value)


def answer(result):
    """run()'s result as a 200, or a 500 when it is not JSON-serialisable."""
    try:
        return Response(200, encode_result(result))
    except (TypeError, ValueError) as err:
        return json_response(500, {"error": "run() returned a value that is not JSON-serialisable: %s" % err})


def json_response(status, value, headers=()):
    if status == 503:
        headers = tuple(headers) + (("Retry-After", "1"),)
    return Response(status, json.dumps(value), headers=headers)


def error_response(status, message):
    """The answer to a request that could not be read (its framing, its size)."""
    return json_response(status, {"error": message})


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
    batching = (BATCH_MAX_SIZE, BATCH_MAX_WAIT_MS / 1000.0) if BATCH_MAX_SIZE > 1 else None
    if batching:
        log("batching: up to %d requests a call of run_batch(), waiting at most %d ms" % (BATCH_MAX_SIZE, BATCH_MAX_WAIT_MS))
    app = ScoringApp(driver, swagger, keys, admission, telemetry, workers=MAX_CONCURRENT or DEFAULT_WORKERS, batching=batching)
    handoff = None
    if os.environ.get("AML_HANDOFF_SERVICE") and os.environ.get("NODE_CHANNEL_FD"):
        handoff = Handoff(int(os.environ["NODE_CHANNEL_FD"]), os.environ["AML_HANDOFF_SERVICE"])
    server = HttpServer(app.handle, error_response, MAX_BODY_BYTES, SOCKET_TIMEOUT_SECONDS, REQUEST_TIMEOUT_SECONDS if handoff else None)

    async def serve():
        port = await server.start(HOST, PORT)
        log("listening on %s:%d" % (HOST, port))
        if handoff is not None:
            handoff.start(asyncio.get_running_loop(), server)
        driver.start()
        await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
