"""`generate_schema`: describes a driver's run() arguments in a `service_schema.json`."""

import inspect
import os

from azureml.api.schema.schemaUtil import save_service_schema


def generate_schema(run_func, inputs, filepath, outputs=None):
    """Writes the schema of `run_func`'s arguments (a map of argument name to SampleDefinition)
    to `filepath`, in the 2017 format, and returns it. Every argument of run() without a default
    must have a sample, and every sample must name an argument of run()."""
    if not callable(run_func):
        raise TypeError("run_func must be the driver's run function.")
    if not isinstance(inputs, dict) or not inputs:
        raise ValueError("inputs must map run()'s argument names to SampleDefinition objects.")
    _check_arguments(run_func, inputs)
    if not filepath:
        raise ValueError("filepath must name the schema file to write, e.g. 'service_schema.json'.")
    directory = os.path.dirname(filepath)
    if directory:
        os.makedirs(directory, exist_ok=True)
    return save_service_schema(filepath, inputs, outputs)


def _check_arguments(run_func, inputs):
    parameters = inspect.signature(run_func).parameters.values()
    if any(p.kind == p.VAR_KEYWORD for p in parameters):
        return
    names = [p.name for p in parameters if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    unknown = [n for n in inputs if n not in names]
    if unknown:
        raise ValueError("Argument mismatch: run() takes (%s), but inputs name %s." % (", ".join(names), ", ".join(unknown)))
    missing = [p.name for p in parameters if p.name in names and p.default is p.empty and p.name not in inputs]
    if missing:
        raise ValueError("Argument mismatch: run() takes %s, which inputs do not describe." % ", ".join(missing))
