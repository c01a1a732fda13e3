"""How a scoring request becomes run()'s arguments, and the Swagger that describes it.

Without a schema, run() gets the request body as text. With one (a `service_schema.json` made by
`generate_schema`), the body is a JSON object whose keys are run()'s arguments, each converted to
its schema's data type (a DataFrame in the schema's column order and dtypes, an ndarray, a plain
JSON value), and run() is called with them by name: what the 2017 runtime did."""

import inspect
import json

from azureml.api.schema.dataTypes import DataTypes
from azureml.api.schema.schemaUtil import load_service_schema, util_for
from azureml.api.schema.sparkUtil import NO_SPARK


class BadInput(Exception):
    """The request does not fit the service's input: a 400 that names what to fix."""


class SchemaError(Exception):
    """The schema file cannot serve this driver: the service never becomes healthy."""


class TextInput(object):
    """No schema: run(body)."""

    names = ()

    def arguments(self, text):
        return (text,), {}


class SchemaInput(object):
    """A schema: run(**arguments), each argument typed by its schema."""

    def __init__(self, path, run):
        try:
            document = load_service_schema(path)
        except ModuleNotFoundError:
            raise
        except Exception as err:  # noqa: BLE001 - any unreadable schema stops the service, saying why
            raise SchemaError("the schema file %s cannot be read: %s: %s" % (path, type(err).__name__, err))
        self.inputs = document.get("input") or {}
        if not self.inputs:
            raise SchemaError("the schema file %s describes no input" % path)
        for name, schema in self.inputs.items():
            if schema.type == DataTypes.SPARK:
                raise SchemaError("the schema's argument %r %s" % (name, NO_SPARK))
        self.names = tuple(self.inputs)
        self._required = self._check_against(run)

    def _check_against(self, run):
        """run()'s arguments that a request must give; a schema that names others is refused now."""
        parameters = list(inspect.signature(run).parameters.values())
        takes_any = any(p.kind == p.VAR_KEYWORD for p in parameters)
        named = [p for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        if not takes_any:
            unknown = [n for n in self.names if n not in [p.name for p in named]]
            if unknown:
                raise SchemaError("the schema describes %s, but run() takes (%s)" % (", ".join(unknown), ", ".join(p.name for p in named)))
        missing = [p.name for p in named if p.default is p.empty and p.name not in self.inputs]
        if missing:
            raise SchemaError("run() takes %s, which the schema does not describe" % ", ".join(missing))
        return [p.name for p in named if p.default is p.empty]

    def arguments(self, text):
        try:
            body = json.loads(text)
        except ValueError as err:
            raise BadInput("The request body is not valid JSON: %s." % err)
        if not isinstance(body, dict):
            raise BadInput("The request body must be a JSON object whose keys are run()'s arguments: %s." % ", ".join(self.names))
        unknown = [k for k in body if k not in self.inputs]
        if unknown:
            raise BadInput("Unknown argument %s: run() takes %s." % (", ".join(json.dumps(k) for k in unknown), ", ".join(self.names)))
        missing = [n for n in self._required if n not in body]
        if missing:
            raise BadInput("The request body lacks %s (run()'s arguments: %s)." % (", ".join(json.dumps(n) for n in missing), ", ".join(self.names)))
        arguments = {}
        for name, value in body.items():
            schema = self.inputs[name]
            try:
                arguments[name] = util_for(schema.type).get_input_object(value, schema)
            except ValueError as err:
                raise BadInput("Argument %s (%s): %s." % (json.dumps(name), DataTypes.name_of(schema.type), err))
        return (), arguments


def swagger_document(schema_document, title):
    """Swagger 2.0 of the service. Each argument is described by its schema's `swagger` part (the
    pickled `internal` part is never shown) and `definitions.ServiceInput.example` gathers the
    arguments' examples: what `mm service run` sends when it is given no input."""
    service_input = {"description": "Any JSON: run() gets the request body as text (the service has no schema)."}
    service_output = {"description": "What run() returned, JSON-encoded."}
    if schema_document:
        if schema_document.get("input"):
            service_input = _object_of(schema_document["input"])
        if schema_document.get("output"):
            service_output = _object_of(schema_document["output"])
    error = {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}
    return {
        "swagger": "2.0",
        "info": {"title": title, "description": "The scoring API of the service %s." % title, "version": "1.0"},
        "consumes": ["application/json"],
        "produces": ["application/json"],
        "securityDefinitions": {"Bearer": {"type": "apiKey", "name": "Authorization", "in": "header", "description": "Bearer <the service's primary or secondary key>"}},
        "paths": {
            "/": {
                "get": {
                    "operationId": "ServiceHealthCheck",
                    "description": "Whether the service is ready: 200 once init() has run, 503 while it runs or when it failed.",
                    "responses": {"200": {"description": "Ready."}, "503": {"description": "Starting, or init() failed.", "schema": {"$ref": "#/definitions/ErrorResponse"}}},
                }
            },
            "/score": {
                "post": {
                    "operationId": "RunMLService",
                    "description": "Runs the model on the input and returns its prediction.",
                    "security": [{"Bearer": []}],
                    "parameters": [{"name": "serviceInputPayload", "in": "body", "required": True, "schema": {"$ref": "#/definitions/ServiceInput"}}],
                    "responses": {
                        "200": {"description": "run()'s result.", "schema": {"$ref": "#/definitions/ServiceOutput"}},
                        "400": {"description": "The input does not fit the service's schema.", "schema": {"$ref": "#/definitions/ErrorResponse"}},
                        "500": {"description": "run() failed on this input.", "schema": {"$ref": "#/definitions/ErrorResponse"}},
                        "503": {"description": "The service is starting, failed to start, or is busy.", "schema": {"$ref": "#/definitions/ErrorResponse"}},
                    },
                }
            },
        },
        "definitions": {"ServiceInput": service_input, "ServiceOutput": service_output, "ErrorResponse": error},
    }


def _object_of(part):
    properties = {}
    example = {}
    for name, entry in part.items():
        swagger = dict(entry.get("swagger") or {}) if isinstance(entry, dict) else {}
        if "example" in swagger:
            example[name] = swagger.pop("example")
        properties[name] = swagger
    schema = {"type": "object", "properties": properties}
    if example:
        schema["example"] = example
    return schema
