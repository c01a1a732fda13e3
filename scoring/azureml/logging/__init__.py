"""`azureml.logging.get_azureml_logger`: the 2017 run logger (`logger.log("Accuracy", 0.9)`).

In a service its values go to the service's log (`mm service logs`), as lines
`[azureml] <name>: <value>`; it is also a standard `logging.Logger` for `info()`, `warning()`, …"""

import json
import logging as _logging
import sys


class AzureMLLogger(object):
    def __init__(self):
        self._logger = _logging.getLogger("azureml")
        if not self._logger.handlers:
            handler = _logging.StreamHandler(sys.stderr)
            handler.setFormatter(_logging.Formatter("[azureml] %(message)s"))
            self._logger.addHandler(handler)
            self._logger.setLevel(_logging.INFO)
            self._logger.propagate = False

    def log(self, name, value, description=""):
        """Records a named value (a metric, a list of values, …)."""
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        self._logger.info("%s: %s%s" % (name, text, " (%s)" % description if description else ""))
        return self

    def __getattr__(self, name):
        return getattr(self._logger, name)


_logger = None


def get_azureml_logger():
    global _logger
    if _logger is None:
        _logger = AzureMLLogger()
    return _logger
