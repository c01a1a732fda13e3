"""NUMPY arguments: arrays of the sample's dtype and number of dimensions (numpy imported only here)."""

from azureml.api.schema import _swagger
from azureml.api.schema.dataTypes import DataTypes
from azureml.api.schema.schemaObjects import InternalSchema, Schema


class NumpySchema(InternalSchema):
    """The sample's `shape` and `data_type` (a numpy dtype)."""

    def __init__(self, shape, data_type):
        self.shape = shape
        self.data_type = data_type


class NumpyUtil(object):
    type = DataTypes.NUMPY

    @classmethod
    def extract_schema(cls, array):
        import numpy as np

        if not isinstance(array, np.ndarray):
            raise TypeError("A NUMPY sample must be a numpy.ndarray, not %s." % type(array).__name__)
        swagger = _swagger.nested_array(_swagger.of_dtype(array.dtype), array.shape)
        swagger["example"] = _plain(array[: _swagger.EXAMPLE_ITEMS])
        return Schema(DataTypes.NUMPY, NumpySchema(tuple(array.shape), array.dtype), swagger)

    @classmethod
    def get_input_object(cls, value, schema):
        """An ndarray of the schema's dtype; every dimension but the first must match the sample's."""
        import numpy as np

        if not isinstance(value, list):
            raise ValueError("expected an array")
        dtype = schema.internal.data_type
        if dtype.names:
            value = [_record(item, dtype) for item in value]
        try:
            array = np.array(value, dtype=dtype)
        except (TypeError, ValueError) as err:
            raise ValueError("cannot be read as an array of %s: %s" % (dtype, err))
        expected = tuple(schema.internal.shape)
        if array.ndim != len(expected):
            raise ValueError("expected an array of %d dimensions, got %d (shape %s)" % (len(expected), array.ndim, array.shape))
        for dim in range(1, len(expected)):
            if array.shape[dim] != expected[dim]:
                raise ValueError("dimension %d has %d items, expected %d" % (dim, array.shape[dim], expected[dim]))
        return array


def _record(item, dtype):
    """A structured dtype's record from a JSON object (or a list in field order)."""
    if isinstance(item, dict):
        return tuple(_record(item[name], dtype.fields[name][0]) if dtype.fields[name][0].names else item[name] for name in dtype.names)
    return tuple(item)


def _plain(array):
    if array.dtype.names:
        return [{name: _native(row[name]) for name in array.dtype.names} for row in array]
    return array.tolist()


def _native(value):
    return value.item() if hasattr(value, "item") else value
