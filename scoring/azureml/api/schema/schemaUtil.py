"""Schema files (`service_schema.json`): written by `generate_schema`, read by the scoring server."""

import json

from azureml.api.schema.dataTypes import DataTypes
from azureml.api.schema.schemaObjects import Schema


def util_for(data_type):
    """The helper of one data type, imported only when that type is used."""
    if data_type == DataTypes.STANDARD:
        from azureml.api.schema.pythonUtil import PythonUtil as util
    elif data_type == DataTypes.NUMPY:
        from azureml.api.schema.numpyUtil import NumpyUtil as util
    elif data_type == DataTypes.PANDAS:
        from azureml.api.schema.pandasUtil import PandasUtil as util
    elif data_type == DataTypes.SPARK:
        from azureml.api.schema.sparkUtil import SparkUtil as util
    else:
        raise ValueError("Unknown data type %r: a schema's type is 0 (STANDARD), 1 (NUMPY), 2 (SPARK) or 3 (PANDAS)." % (data_type,))
    return util


def save_service_schema(file_path, inputs=None, outputs=None):
    """Writes `{"input": {...}, "output": {...}}` for maps of argument name to SampleDefinition."""
    document = {}
    if inputs is not None:
        document["input"] = _serialized(inputs, "inputs")
    if outputs is not None:
        document["output"] = _serialized(outputs, "outputs")
    with open(file_path, "w") as f:
        json.dump(document, f)
    return document


def load_service_schema(file_path):
    """`{"input": {name: Schema}, "output": {name: Schema}}` of a schema file (unpickles: the
    file belongs to the service's own code, and is read only in the service's process)."""
    with open(file_path, "r", encoding="utf-8") as f:
        document = json.load(f)
    if not isinstance(document, dict):
        raise ValueError("a schema file is a JSON object with \"input\" and/or \"output\"")
    return {part: _deserialized(document[part], part) for part in ("input", "output") if part in document}


def _serialized(samples, what):
    if not isinstance(samples, dict):
        raise ValueError("%s must map each argument name to a SampleDefinition" % what)
    out = {}
    for name, sample in samples.items():
        # A SampleDefinition (told by what it does: this module does not import that one, which imports it).
        if not callable(getattr(sample, "serialize", None)) or not hasattr(sample, "data_type"):
            raise ValueError("%s[%r] must be a SampleDefinition, not %s" % (what, name, type(sample).__name__))
        out[name] = sample.serialize()
    return out


def _deserialized(part, what):
    if not isinstance(part, dict):
        raise ValueError("\"%s\" must map argument names to schemas" % what)
    out = {}
    for name, entry in part.items():
        if not isinstance(entry, dict) or "type" not in entry or "internal" not in entry:
            raise ValueError("%s %r has no \"type\" and \"internal\"" % (what, name))
        util = util_for(entry["type"])
        internal = entry["internal"]
        if entry["type"] == DataTypes.SPARK:
            from azureml.api.schema.sparkUtil import SparkSchema

            internal_schema = SparkSchema.deserialize_from_string(internal)
        else:
            from azureml.api.schema.schemaObjects import InternalSchema

            internal_schema = InternalSchema.deserialize_from_string(internal)
        out[name] = Schema(util.type, internal_schema, entry.get("swagger") or {})
    return out
