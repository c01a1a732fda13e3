"""STANDARD arguments: plain JSON values (strings, numbers, lists, objects)."""

from azureml.api.schema import _swagger
from azureml.api.schema.dataTypes import DataTypes
from azureml.api.schema.schemaObjects import InternalSchema, Schema


class PythonSchema(InternalSchema):
    """The Python type of the sample (`data_type`): what 2017 files pickle for STANDARD."""

    def __init__(self, data_type):
        self.data_type = data_type


class PythonUtil(object):
    type = DataTypes.STANDARD

    @classmethod
    def extract_schema(cls, sample):
        swagger = _swagger.of_python_value(sample)
        swagger["example"] = sample
        return Schema(DataTypes.STANDARD, PythonSchema(type(sample)), swagger)

    @classmethod
    def get_input_object(cls, value, schema):
        """The JSON value as run() gets it; a scalar of another kind than the sample's is refused."""
        expected = getattr(schema.internal, "data_type", None)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if expected in (str, int, float, bool) and not _is(value, expected):
            raise ValueError("expected %s, got %s" % (_kind(expected), _kind(type(value))))
        return value


def _is(value, expected):
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)


def _kind(python_type):
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "an array", dict: "an object", type(None): "null"}.get(python_type, python_type.__name__)
