"""Swagger (OpenAPI 2.0) schemas of sample values, numpy dtypes and Python types.

Numpy is never imported here: dtypes are read through their `kind` and `itemsize`, so a STANDARD
schema costs no numpy import."""

# How many records or items of a sample become the schema's example.
EXAMPLE_ITEMS = 3


def of_dtype(dtype):
    """The Swagger schema of one value of a numpy dtype."""
    if getattr(dtype, "names", None):
        properties = {}
        for name in dtype.names:
            properties[name] = of_dtype(dtype.fields[name][0])
        return {"type": "object", "properties": properties}
    kind = dtype.kind
    if kind == "b":
        return {"type": "boolean"}
    if kind in ("i", "u"):
        return {"type": "integer", "format": "int64" if dtype.itemsize > 4 or kind == "u" else "int32"}
    if kind == "f":
        return {"type": "number", "format": "double" if dtype.itemsize > 4 else "float"}
    if kind == "M":
        return {"type": "string", "format": "date-time"}
    return {"type": "string"}


def of_python_type(python_type):
    """The Swagger schema of a Python type (what a STANDARD argument records)."""
    if python_type is bool:
        return {"type": "boolean"}
    if python_type is int:
        return {"type": "integer", "format": "int64"}
    if python_type is float:
        return {"type": "number", "format": "double"}
    if python_type in (list, tuple):
        return {"type": "array", "items": {}}
    if python_type is dict:
        return {"type": "object"}
    return {"type": "string"}


def of_python_value(value):
    """The Swagger schema of a sample value, looking into lists and dicts."""
    if isinstance(value, (list, tuple)):
        return {"type": "array", "items": of_python_value(value[0]) if value else {}}
    if isinstance(value, dict):
        return {"type": "object", "properties": {str(k): of_python_value(v) for k, v in value.items()}}
    return of_python_type(type(value))


def nested_array(item_schema, shape):
    """An array of `len(shape)` dimensions of items."""
    schema = item_schema
    for _ in shape:
        schema = {"type": "array", "items": schema}
    return schema
