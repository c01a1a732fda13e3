"""PANDAS arguments: DataFrames with the sample's columns, in its column order, with its dtypes.

pandas is imported only here, and only when a PANDAS schema is made or used."""

import json

from azureml.api.schema import _swagger
from azureml.api.schema.dataTypes import DataTypes
from azureml.api.schema.schemaObjects import InternalSchema, Schema


class PandasSchema(InternalSchema):
    """The sample's `shape`, `column_names` (in column order), `column_types` (numpy dtypes, same
    order) and `schema_map` (name to dtype: what some 2017 versions read instead)."""

    def __init__(self, shape, column_names, column_types):
        self.shape = shape
        self.column_names = column_names
        self.column_types = column_types
        self.schema_map = dict(zip(column_names, column_types))


class PandasUtil(object):
    type = DataTypes.PANDAS

    @classmethod
    def extract_schema(cls, frame):
        import pandas as pd

        if not isinstance(frame, pd.DataFrame):
            raise TypeError("A PANDAS sample must be a pandas.DataFrame, not %s." % type(frame).__name__)
        names = frame.columns.values.tolist()
        types = frame.dtypes.tolist()
        properties = {}
        for name, dtype in zip(names, types):
            properties[str(name)] = _swagger.of_dtype(dtype)
        swagger = {
            "type": "array",
            "items": {"type": "object", "properties": properties},
            "example": json.loads(frame.head(_swagger.EXAMPLE_ITEMS).to_json(orient="records", date_format="iso")),
        }
        return Schema(DataTypes.PANDAS, PandasSchema(tuple(frame.shape), names, types), swagger)

    @classmethod
    def get_input_object(cls, value, schema):
        """A DataFrame from an array of records (objects keyed by column name), whatever order the
        keys come in: the columns are the schema's, in its order, converted to its dtypes."""
        import pandas as pd

        names, types = columns_of(schema.internal)
        keys = [str(name) for name in names]
        if not isinstance(value, list):
            raise ValueError("expected an array of records (objects keyed by column name)")
        known = set(keys)
        for index, record in enumerate(value):
            if not isinstance(record, dict):
                raise ValueError("record %d is not an object keyed by column name" % index)
            unknown = sorted(k for k in record if k not in known)
            if unknown:
                raise ValueError("record %d has columns the schema does not: %s (the columns are: %s)" % (index, _names(unknown), _names(keys)))
            missing = [k for k in keys if k not in record]
            if missing:
                raise ValueError("record %d lacks the columns %s" % (index, _names(missing)))
        frame = pd.DataFrame.from_records(value, columns=keys)
        frame.columns = names
        for name, dtype in zip(names, types):
            if dtype is None or frame[name].dtype == dtype:
                continue
            try:
                frame[name] = pd.to_datetime(frame[name]) if dtype.kind == "M" else frame[name].astype(dtype)
            except (TypeError, ValueError) as err:
                raise ValueError("column %s cannot be read as %s: %s" % (json.dumps(str(name)), dtype, err))
        return frame


def columns_of(internal):
    """Column names and dtypes of a PandasSchema, whichever attributes its version pickled."""
    names = list(getattr(internal, "column_names", None) or list(getattr(internal, "schema_map", {}) or {}))
    types = getattr(internal, "column_types", None)
    if types is None:
        schema_map = getattr(internal, "schema_map", None) or {}
        types = [schema_map.get(name) for name in names]
    return names, list(types)


def _names(names):
    return ", ".join(json.dumps(str(n)) for n in names)
