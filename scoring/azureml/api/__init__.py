"""`azureml.api`: schemas of a service's inputs and outputs, and the realtime service helpers."""
