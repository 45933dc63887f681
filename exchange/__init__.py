"""The exchange: API, storage, auth, CLI and SDMX output, built on ``standards``."""
