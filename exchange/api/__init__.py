"""The HTTP API (FastAPI). Routes are thin: parse, authorize, call a service, respond."""
