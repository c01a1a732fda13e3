"""The schema of one run() argument, and the base of the pickled per-type schemas.

A schema file records, per argument, `internal` (the per-type schema object, pickled with
protocol 3 and base64-encoded: the form 2017 files have, so that either runtime reads the other's
files), `swagger` (its OpenAPI schema, with an `example`) and `type` (a `DataTypes` value)."""

import base64
import pickle

PICKLE_PROTOCOL = 3


class InternalSchema(object):
    """A per-type schema. Subclasses keep only plain attributes, which is what gets pickled."""

    def serialize_to_string(self):
        return base64.b64encode(pickle.dumps(self, protocol=PICKLE_PROTOCOL)).decode("ascii")

    @classmethod
    def deserialize_from_string(cls, text):
        # The schema file belongs to the service's own code: it is read only inside the service.
        return pickle.loads(base64.b64decode(text.encode("ascii")))

    def __eq__(self, other):
        return type(self) is type(other) and _comparable(self.__dict__) == _comparable(other.__dict__)

    def __ne__(self, other):
        return not self == other

    def __repr__(self):
        return "%s(%s)" % (type(self).__name__, ", ".join("%s=%r" % kv for kv in sorted(self.__dict__.items())))


def _comparable(state):
    return {k: (str(v) if not isinstance(v, (int, float, str, tuple, list, type(None))) else v) for k, v in state.items()}


class Schema(object):
    """One argument's schema: its data type, the per-type schema object and its Swagger schema."""

    def __init__(self, data_type, internal, swagger):
        self.type = data_type
        self.internal = internal
        self.swagger = swagger

    def to_json(self):
        internal = self.internal if isinstance(self.internal, str) else self.internal.serialize_to_string()
        return {"internal": internal, "swagger": self.swagger, "type": self.type}
