"""One validation engine for the CLI and the server (DESIGN.md, "Validation rules")."""

from standards.validation.engine import validate_file
from standards.validation.reading import FileFormat, UnusableInput, read_table
from standards.validation.report import Issue, Report, Rule

__all__ = ["FileFormat", "Issue", "Report", "Rule", "UnusableInput", "read_table",
           "validate_file"]
