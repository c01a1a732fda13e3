"""`ModelDataCollector`: what a driver collects of its inputs and predictions.

With model data collection on (`--collect-model-data true`, `dataCollection.storageEnabled`), each
`collect(data)` call becomes rows of `modeldata/<subscription>/<resourceGroup>/<account>/<service>/
<modelId>-<modelName>-<version>/<identifier>/<yyyy>/<mm>/<dd>/data.csv`. The rows leave this
process as JSON lines on the pipe the runtime gives it (`AML_MODEL_DC_PIPE_FD`), and the runtime
appends them to blob storage, so `collect()` never waits for storage. With collection off it does
nothing, and says so once in the service's log. `AML_MODEL_DC_DEBUG=true` also prints each record
(as 2017 did), which is what you see when you run your driver on your own machine.
"""

import json
import os
import sys
import threading
from datetime import datetime, timezone

# The scoring server sets `request_id` on the thread that runs each request's run().
request_context = threading.local()

_lock = threading.Lock()
_said_off = False


def _on(name):
    return os.environ.get(name, "").strip().lower() == "true"


class ModelDataCollector(object):
    def __init__(self, model_name, identifier="default", feature_names=None, **kwargs):
        self.model_name = str(model_name)
        self.identifier = str(identifier)
        self.feature_names = [str(f) for f in feature_names] if feature_names is not None else None

    def collect(self, input_data, user_correlation_id=""):
        """Records `input_data` (a DataFrame, an array, a list, a dict or a single value) as rows."""
        debug = _on("AML_MODEL_DC_DEBUG")
        enabled = _on("AML_MODEL_DC_STORAGE_ENABLED")
        if not enabled and not debug:
            _say_off_once()
            return
        columns, rows = rows_of(input_data, self.feature_names)
        record = {
            "model": self.model_name,
            "identifier": self.identifier,
            "requestId": getattr(request_context, "request_id", ""),
            "correlationId": str(user_correlation_id or ""),
            "time": datetime.now(timezone.utc).isoformat().replace("+00:00", "Z"),
            "columns": columns,
            "rows": rows,
        }
        line = json.dumps(record, default=str)
        if debug:
            sys.stdout.write("[data collection] %s\n" % line)
            sys.stdout.flush()
        if enabled:
            _send(line)


def _say_off_once():
    global _said_off
    if not _said_off:
        _said_off = True
        sys.stderr.write("[azureml.datacollector] model data collection is off here: collect() calls are ignored (a service "
                         "collects with --collect-model-data true; AML_MODEL_DC_DEBUG=true prints what would be collected)\n")
        sys.stderr.flush()


_no_sink_said = False


def _send(line):
    global _no_sink_said
    fd = os.environ.get("AML_MODEL_DC_PIPE_FD")
    if not fd:
        if not _no_sink_said:
            _no_sink_said = True
            sys.stderr.write("[azureml.datacollector] model data collection is on, but this runtime gives the "
                             "service nowhere to send it (AML_MODEL_DC_PIPE_FD): collected rows are dropped\n")
            sys.stderr.flush()
        return
    data = (line + "\n").encode("utf-8")
    with _lock:
        view = memoryview(data)
        while view:
            written = os.write(int(fd), view)
            view = view[written:]


def rows_of(data, feature_names=None):
    """Column names (or None) and rows of plain JSON values, from whatever a driver collects."""
    columns = None
    if hasattr(data, "columns") and hasattr(data, "values") and hasattr(data, "iloc"):
        columns = [str(c) for c in data.columns]
        rows = data.values.tolist()
    elif hasattr(data, "to_list") and hasattr(data, "name") and hasattr(data, "iloc"):
        columns = [str(data.name)] if data.name is not None else None
        rows = [[v] for v in data.to_list()]
    elif hasattr(data, "ndim") and hasattr(data, "tolist"):
        plain = data.tolist()
        rows = [[plain]] if data.ndim == 0 else [row if isinstance(row, list) else [row] for row in plain]
    elif isinstance(data, dict):
        columns = [str(k) for k in data]
        rows = [list(data.values())]
    elif isinstance(data, (list, tuple)):
        rows = [list(item) if isinstance(item, (list, tuple)) else [item] for item in data]
    else:
        rows = [[data]]
    if feature_names is not None:
        columns = list(feature_names)
    return columns, [[_plain(v) for v in row] for row in rows]


def _plain(value):
    if hasattr(value, "item") and not isinstance(value, (list, dict)):
        try:
            value = value.item()
        except (ValueError, TypeError):
            pass
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return json.dumps(value, default=str)
    return str(value)
