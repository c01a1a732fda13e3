"""Scoring requests to Application Insights (standard library only: this server goes into every image)."""

import gzip
import json
import os
import threading
import time
import urllib.request
import uuid
from datetime import datetime, timezone

from aml_server.driver import log


class RequestTelemetry:
    """Scoring requests to Application Insights, as RequestData envelopes of its ingestion API.

    Standard library only (this server goes into every image): a queue, a thread that posts the
    batch every few seconds, and nothing that can slow or fail a scoring request."""

    FLUSH_SECONDS = 5.0
    MAX_QUEUED = 10000

    def __init__(self, connection_string):
        parts = dict(p.split("=", 1) for p in connection_string.split(";") if "=" in p)
        self._ikey = parts.get("InstrumentationKey", "")
        endpoint = parts.get("IngestionEndpoint", "https://dc.services.visualstudio.com/")
        self._url = endpoint.rstrip("/") + "/v2.1/track"
        self._lock = threading.Lock()
        self._pending = []
        self._role = os.environ.get("HOSTNAME", "scoring")
        threading.Thread(target=self._run, name="telemetry", daemon=True).start()

    def request(self, name, started, seconds, status):
        envelope = {
            "name": "Microsoft.ApplicationInsights.Request",
            "time": datetime.fromtimestamp(started, tz=timezone.utc).isoformat(),
            "iKey": self._ikey,
            "tags": {"ai.cloud.role": "scoring", "ai.cloud.roleInstance": self._role, "ai.operation.id": uuid.uuid4().hex},
            "data": {
                "baseType": "RequestData",
                "baseData": {
                    "ver": 2,
                    "id": uuid.uuid4().hex[:16],
                    "name": name,
                    "duration": "00:00:%09.6f" % min(seconds, 59.999999),
                    "responseCode": str(status),
                    "success": status < 400,
                },
            },
        }
        with self._lock:
            if len(self._pending) < self.MAX_QUEUED:
                self._pending.append(envelope)

    def _run(self):
        while True:
            time.sleep(self.FLUSH_SECONDS)
            self.flush()

    def flush(self):
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return
        body = gzip.compress(json.dumps(batch).encode("utf-8"))
        request = urllib.request.Request(self._url, data=body, method="POST", headers={"Content-Type": "application/json", "Content-Encoding": "gzip"})
        try:
            urllib.request.urlopen(request, timeout=10).read()
        except Exception as err:  # noqa: BLE001 - telemetry is best effort
            log("telemetry not sent (%d requests): %s" % (len(batch), err))
