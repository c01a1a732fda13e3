"""A sample value of a run() argument, with its data type: what `generate_schema` describes."""

from azureml.api.schema.dataTypes import DataTypes


class SampleDefinition(object):
    def __init__(self, data_type, sample_data):
        if data_type not in DataTypes.NAMES:
            raise ValueError("Unknown data type %r: use DataTypes.STANDARD, NUMPY, SPARK or PANDAS." % (data_type,))
        self.data_type = data_type
        self.sample_data = sample_data

    def serialize(self):
        """The argument's entry in a schema file: `internal`, `swagger` (with `example`), `type`."""
        from azureml.api.schema.schemaUtil import util_for

        return util_for(self.data_type).extract_schema(self.sample_data).to_json()
