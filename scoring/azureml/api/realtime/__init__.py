"""`azureml.api.realtime`: helpers for realtime services (`services.generate_schema`)."""
