"""The scoring server's own modules (the 2017 runtime modules are `azureml`, beside it)."""
