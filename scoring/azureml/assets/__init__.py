"""`azureml.assets.get_local_path`: where a file the driver was deployed with is, in the service."""

import os


def get_local_path(path):
    """The path of a model or dependency file: in a service they sit in the app directory, beside
    the driver (its working directory); elsewhere the path is returned as it was given."""
    if os.path.isabs(path) or os.path.exists(path):
        return path
    app_root = os.environ.get("AML_APP_ROOT")
    if app_root:
        candidate = os.path.join(app_root, path)
        if os.path.exists(candidate):
            return candidate
    return path
