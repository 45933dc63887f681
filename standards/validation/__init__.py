"""One validation engine for the CLI and the server (DESIGN.md, "Validation rules")."""

from standards.validation.engine import identifier_columns, validate_file
from standards.validation.reading import FileFormat, UnusableInput, csv_header, read_table
from standards.validation.report import Issue, Report, Rule

__all__ = ["FileFormat", "Issue", "Report", "Rule", "UnusableInput", "csv_header",
           "identifier_columns", "read_table", "validate_file"]
