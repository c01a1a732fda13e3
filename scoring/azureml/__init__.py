"""The 2017 Azure ML runtime modules that scoring drivers import (`azure-ml-api-sdk`,
`azureml.datacollector`, `azureml.assets`, `azureml.logging`), written for this project.

Standard library only: numpy and pandas are imported only where a schema's data type needs them.
They sit beside the scoring server in every image, so drivers written for the 2017 service import
them unchanged; `PYTHONPATH=<this project>/scoring` makes them importable on your own machine too
(to run `generate_schema`).
"""

from azureml import _compat

_compat.install()
