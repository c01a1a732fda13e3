"""The driver program: loaded once, its schema read, its init() run; then run() per request."""

import importlib.machinery
import importlib.util
import json
import os
import re
import sys
import threading
import time
import traceback
import uuid

from aml_server.service_input import SchemaError, SchemaInput, TextInput
from azureml.datacollector import request_context

# Import names whose pip package has another name: what to tell a user to add.
PIP_NAMES = {"sklearn": "scikit-learn", "cv2": "opencv-python", "PIL": "Pillow", "yaml": "PyYAML", "skimage": "scikit-image", "bs4": "beautifulsoup4"}
TRACEBACK_LINES = 12
REQUEST_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")


class Driver(object):
    """Loads the driver module (whatever its file is called: the 2017 CLI named it `driver`),
    reads the service's schema and runs init(), in the background. Any failure leaves the driver
    `failed`, with a one-line `error` and the traceback's last lines in `details`."""

    def __init__(self, app_root, driver_file, schema_file):
        self.state = "starting"
        self.error = None
        self.details = None
        self.module = None
        self.input = TextInput()
        self._app_root = app_root
        self._driver_file = driver_file
        self._schema_file = schema_file
        self._running = {}
        self._running_lock = threading.Lock()

    def start(self):
        threading.Thread(target=self._start, name="driver-init", daemon=True).start()

    def _start(self):
        stage = "loading the driver %s" % self._driver_file
        try:
            module = self._load()
            for name in ("init", "run"):
                if not callable(getattr(module, name, None)):
                    raise AttributeError("the driver %s defines no %s() function" % (self._driver_file, name))
            schema_path = os.path.join(self._app_root, self._schema_file)
            if os.path.isfile(schema_path):
                stage = "reading the schema %s" % self._schema_file
                self.input = SchemaInput(schema_path, module.run)
            stage = "init()"
            module.init()
            self.module = module
            self.state = "ready"
            log("driver ready%s" % (" (arguments from the schema: %s)" % ", ".join(self.input.names) if self.input.names else ""))
        except BaseException as err:  # noqa: BLE001 - any failure here means the service cannot serve
            self.error = "%s failed: %s: %s%s" % (stage, type(err).__name__, err, missing_module_hint(err))
            # A schema that does not fit says all there is to say; the driver's own errors need their traceback.
            self.details = None if isinstance(err, SchemaError) else "".join(traceback.format_exception(type(err), err, err.__traceback__)[-TRACEBACK_LINES:]).rstrip()
            self.state = "failed"
            log(self.error if self.details is None else "%s\n%s" % (self.error, self.details))

    def _load(self):
        path = os.path.join(self._app_root, self._driver_file)
        # A source loader takes any file name, with or without .py.
        loader = importlib.machinery.SourceFileLoader("score", path)
        spec = importlib.util.spec_from_loader("score", loader)
        module = importlib.util.module_from_spec(spec)
        sys.modules["score"] = module
        loader.exec_module(module)
        return module

    def call(self, text, request_id=None):
        """run()'s result for one request body (BadInput when the body does not fit the schema).
        What the driver collects meanwhile is filed under `request_id` (the gateway's, when given)."""
        args, kwargs = self.input.arguments(text)
        me = self._started(request_id if request_id and REQUEST_ID.match(request_id) else uuid.uuid4().hex)
        try:
            return self.module.run(*args, **kwargs)
        finally:
            self._ended(me)

    # A pair of calls rather than a generator-based context manager: this is on every request's path,
    # where the generator-based manager cost a microsecond a call, a third of what they do.
    def _started(self, request_id):
        """Driver code runs in this thread now (for stuck_for()), its collected rows filed under `request_id`."""
        request_context.request_id = request_id
        me = threading.get_ident()
        with self._running_lock:
            self._running[me] = time.monotonic()
        return me

    def _ended(self, me):
        with self._running_lock:
            self._running.pop(me, None)
        request_context.request_id = ""

    @property
    def batches(self):
        """True when the driver defines run_batch(inputs) (and has loaded)."""
        return self.module is not None and callable(getattr(self.module, "run_batch", None))

    def prepare(self, text):
        """What run_batch() gets for one request body: the body as text without a schema, the dict
        of typed arguments with one (BadInput when the body does not fit the schema)."""
        args, kwargs = self.input.arguments(text)
        return args[0] if args else kwargs

    def call_batch(self, inputs):
        """The result of each input, in order, as (True, value) or (False, exception): run_batch()
        answers for all of them, and may put an exception in an input's place. A run_batch() that
        raises, or answers with another number of results, is not trusted with the batch: each
        input then goes through run() alone, so that a bad input fails alone. What the driver
        collects meanwhile is filed under one id for the batch."""
        me = self._started(uuid.uuid4().hex)
        try:
            try:
                results = list(self.module.run_batch(list(inputs)))
                if len(results) != len(inputs):
                    raise ValueError("run_batch() returned %d results for %d inputs" % (len(results), len(inputs)))
                return [(not isinstance(r, BaseException), r) for r in results]
            except Exception as err:  # noqa: BLE001 - the inputs are tried one by one instead
                log("run_batch() failed (%s: %s): running its %d inputs one by one" % (type(err).__name__, err, len(inputs)))
            answers = []
            for item in inputs:
                try:
                    answers.append((True, self.module.run(**item) if isinstance(self.input, SchemaInput) else self.module.run(item)))
                except Exception as err:  # noqa: BLE001 - this input's error only
                    answers.append((False, err))
            return answers
        finally:
            self._ended(me)

    def stuck_for(self, limit_seconds):
        """How long (whole seconds) the oldest run() has gone on, when that is past the limit; else 0."""
        with self._running_lock:
            oldest = min(self._running.values(), default=None)
        if oldest is None:
            return 0
        age = time.monotonic() - oldest
        return int(age) if age > limit_seconds else 0


def missing_module_hint(err):
    """What to do about a module the driver imports and this Python lacks."""
    if not isinstance(err, ModuleNotFoundError) or not err.name:
        return ""
    top = err.name.split(".")[0]
    package = PIP_NAMES.get(top, top)
    return (
        ". The driver needs the Python module %r, which this service's Python (%s, %s) does not have: "
        "add %s to the manifest's pip requirements (-p requirements.txt) or conda file (-c), or, on the "
        "local runtime, start the stack with a PYTHON that has it"
    ) % (top, sys.executable, sys.version.split()[0], package)


def encode_result(result):
    """run()'s result as the response body: JSON-encoded whatever it is (a string included, as the
    2017 runtime did), numpy and pandas values as plain lists; bytes are sent as they are."""
    if isinstance(result, (bytes, bytearray)):
        return bytes(result)
    return json.dumps(result, default=_plain).encode("utf-8")


def _plain(value):
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "to_dict"):
        return value.to_dict(orient="records")
    if isinstance(value, (set, frozenset)):
        return list(value)
    raise TypeError("%s is not JSON-serialisable" % type(value).__name__)


def log(message):
    sys.stderr.write("[scoring] %s\n" % message)
    sys.stderr.flush()
