"""Uploads of quarterly tables: intake, storage, the validation stage, status and reports."""
