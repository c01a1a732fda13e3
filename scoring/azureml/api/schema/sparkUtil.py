"""SPARK arguments: Spark DataFrames. No Spark runs in this service's images, so a schema with a
SPARK argument is read (its `internal` is a StructType's JSON, not a pickle) but refused with a
clear error when the service starts."""

import json

from azureml.api.schema.dataTypes import DataTypes
from azureml.api.schema.schemaObjects import Schema

NO_SPARK = (
    "is a Spark DataFrame (DataTypes.SPARK), and no Spark runs in this service: "
    "give run() a PANDAS argument instead (SampleDefinition(DataTypes.PANDAS, a pandas DataFrame))"
)


class SparkSchema(object):
    """A Spark StructType, kept as its JSON text."""

    def __init__(self, struct_type_json):
        self.struct_type_json = struct_type_json

    def serialize_to_string(self):
        return self.struct_type_json

    @classmethod
    def deserialize_from_string(cls, text):
        return cls(text)


class SparkUtil(object):
    type = DataTypes.SPARK

    @classmethod
    def extract_schema(cls, frame):
        schema = getattr(frame, "schema", None)
        if schema is None or not hasattr(schema, "json"):
            raise TypeError("A SPARK sample must be a pyspark.sql.DataFrame.")
        properties = {field["name"]: {"type": "string"} for field in json.loads(schema.json()).get("fields", [])}
        swagger = {"type": "array", "items": {"type": "object", "properties": properties}, "example": [row.asDict() for row in frame.take(3)]}
        return Schema(DataTypes.SPARK, SparkSchema(schema.json()), swagger)

    @classmethod
    def get_input_object(cls, value, schema):
        raise ValueError(NO_SPARK)
