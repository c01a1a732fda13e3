"""`azure.ml.api`: the module path of the earliest 2017 releases (drivers that import
`azure.ml.api.schema…`, schema files that pickle `azure.ml.api.schema.pandasUtil.PandasSchema`).
Every module of it is its `azureml.api` twin, so either path names the same classes."""

import importlib
import sys

_MODULES = (
    "schema",
    "schema.dataTypes",
    "schema.sampleDefinition",
    "schema.schemaObjects",
    "schema.schemaUtil",
    "schema.pythonUtil",
    "schema.numpyUtil",
    "schema.pandasUtil",
    "schema.sparkUtil",
    "realtime",
    "realtime.services",
)

for _name in _MODULES:
    sys.modules["azure.ml.api." + _name] = importlib.import_module("azureml.api." + _name)
sys.modules[__name__] = importlib.import_module("azureml.api")
