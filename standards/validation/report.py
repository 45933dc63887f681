"""The validation report: what the CLI prints and what the server stores, in one shape."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum


class Rule(StrEnum):
    """Every rule the engine applies. The value is the stable id used in reports and docs."""

    UNUSABLE = "unusable_input"
    STRUCTURE = "structure"
    RAGGED_ROW = "ragged_row"
    DATAFLOW = "dataflow"
    INDIVIDUAL_DATA = "individual_data"
    REQUIRED_VALUE = "required_value"
    TYPE = "type"
    CODE_LIST = "code_list"
    PERIOD_FORMAT = "period_format"
    NON_NEGATIVE = "non_negative"
    MISSING_VALUE = "missing_value"
    DECLARED_MATCH = "declared_match"
    DUPLICATE_KEY = "duplicate_key"
    ADDITIVITY = "additivity"
    AGE_BANDS = "age_bands"
    SUBSET = "subset"
    COMBINATION = "combination"
    ROUNDING = "rounding"


RULE_DESCRIPTIONS: dict[Rule, str] = {
    Rule.UNUSABLE: "The file cannot be read as a table (encoding, format, empty, garbage).",
    Rule.STRUCTURE: "Columns must be the DSD's dimensions (FREQ, COUNTERPART_AREA and SPEC_NEED "
                    "may be left out), OBS_VALUE and optionally OBS_STATUS, UNIT_MEASURE and "
                    "CONF_STATUS.",
    Rule.RAGGED_ROW: "Every row must have as many fields as the header.",
    Rule.DATAFLOW: "SDMX-CSV files must name this exchange's dataflow.",
    Rule.INDIVIDUAL_DATA: "Personal identifiers and one-row-per-person tables are refused.",
    Rule.REQUIRED_VALUE: "Dimension values may not be empty.",
    Rule.TYPE: "OBS_VALUE must be a whole number.",
    Rule.CODE_LIST: "Coded values must come from the standard's code lists.",
    Rule.PERIOD_FORMAT: "TIME_PERIOD must be a quarter (YYYY-Qn) or an emergency week (YYYY-Www).",
    Rule.NON_NEGATIVE: "Counts cannot be negative.",
    Rule.MISSING_VALUE: "OBS_VALUE may be empty only with OBS_STATUS O, L or M, and must be then.",
    Rule.DECLARED_MATCH: "REF_AREA and TIME_PERIOD must match the declared country and period.",
    Rule.DUPLICATE_KEY: "Each combination of dimension values may appear once.",
    Rule.ADDITIVITY: "Breakdowns (status, sex, age, origin, measure and needs hierarchies) must "
                     "add up to their totals.",
    Rule.AGE_BANDS: "A file's age bands come from one system: base, UNHCR or Eurostat.",
    Rule.SUBSET: "A specific-needs count never exceeds the count of all persons of its key.",
    Rule.COMBINATION: "Codes must make sense together: children's categories only under 18, "
                      "frequency and period, origin or destination and measure, unit and "
                      "measure.",
    Rule.ROUNDING: "A file declared rounded to a base holds multiples of that base.",
}

# Longest value quoted in a report; longer ones are cut (a report is for people, not a copy).
MAX_QUOTED_CHARS = 60


def quote(value: object) -> str | None:
    """A cell value as a report quotes it: as text, cut to ``MAX_QUOTED_CHARS``."""
    if value is None:
        return None
    text = str(value)
    return text if len(text) <= MAX_QUOTED_CHARS else text[: MAX_QUOTED_CHARS - 1] + "…"


# First characters that make a spreadsheet read a cell as a formula (OWASP "CSV Injection",
# ASVS 1.2.10): =, +, -, @, tab, carriage return, and line feed and NUL with them; and the
# full-width forms some spreadsheets accept as the same operators.
FORMULA_STARTS = frozenset("=+-@\t\r\n\0\uff1d\uff0b\uff0d\uff20")
# A plain negative number (-7, -7.5) is read as a number, never as a formula: it stays as is.
_PLAIN_NUMBER = re.compile(r"-[0-9]+(\.[0-9]+)?")


def spreadsheet_safe(value: object) -> object:
    """A cell value that a spreadsheet shows as text instead of running as a formula.

    Text whose first character (after any spaces) starts a formula gets a leading single quote,
    which spreadsheets take as "this is text" (``=cmd|' /C calc'!A0`` becomes
    ``'=cmd|' /C calc'!A0``). Numbers, and text that is a plain negative number, are returned as
    they are. Use it for every cell of every CSV or XLSX written for people.
    """
    if not isinstance(value, str) or not value:
        return value
    if value.lstrip(" ")[:1] in FORMULA_STARTS and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


# Rules that make a file unusable (exit code 2) rather than merely invalid (exit code 1).
UNUSABLE_RULES = frozenset({Rule.UNUSABLE})


@dataclass(frozen=True)
class Issue:
    """One finding. ``row`` is the 1-based row of the file (the header is row 1)."""

    rule: Rule
    message: str
    row: int | None = None
    column: str | None = None
    value: str | None = None
    hint: str | None = None

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["rule"] = self.rule.value
        return d


@dataclass
class RuleSummary:
    rule: Rule
    count: int
    description: str

    def as_dict(self) -> dict[str, object]:
        return {"rule": self.rule.value, "count": self.count, "description": self.description}


@dataclass
class Report:
    """Capped issues plus exact per-rule counts, so a million bad rows stay a small report."""

    standard: str
    file_format: str | None = None
    rows: int = 0
    issues: list[Issue] = field(default_factory=list)
    counts: dict[Rule, int] = field(default_factory=dict)
    max_per_rule: int = 100
    # Things the reader should know that are not errors (e.g. a rule that could not run).
    notes: list[str] = field(default_factory=list)

    def add(self, issue: Issue) -> None:
        self.add_counted(issue.rule, [issue], 1)

    def add_counted(self, rule: Rule, examples: list[Issue], total: int) -> None:
        """Record ``total`` failures of ``rule`` of which ``examples`` are kept (up to the cap)."""
        if total <= 0:
            return
        kept = sum(1 for i in self.issues if i.rule == rule)
        room = max(self.max_per_rule - kept, 0)
        self.issues.extend(examples[:room])
        self.counts[rule] = self.counts.get(rule, 0) + total

    @property
    def error_count(self) -> int:
        return sum(self.counts.values())

    @property
    def usable(self) -> bool:
        return not any(rule in UNUSABLE_RULES for rule in self.counts)

    @property
    def valid(self) -> bool:
        return self.error_count == 0

    @property
    def truncated(self) -> bool:
        return len(self.issues) < self.error_count

    @property
    def exit_code(self) -> int:
        if not self.usable:
            return 2
        return 0 if self.valid else 1

    def summary(self) -> list[RuleSummary]:
        order = list(Rule)
        return [
            RuleSummary(rule, count, RULE_DESCRIPTIONS[rule])
            for rule, count in sorted(self.counts.items(), key=lambda kv: order.index(kv[0]))
        ]

    def sorted_issues(self) -> list[Issue]:
        return sorted(self.issues, key=lambda i: (i.row or 0, i.column or "", i.rule.value))

    def as_dict(self) -> dict[str, object]:
        return {
            "valid": self.valid,
            "usable": self.usable,
            "standard": self.standard,
            "format": self.file_format,
            "rows": self.rows,
            "error_count": self.error_count,
            "truncated": self.truncated,
            "summary": [s.as_dict() for s in self.summary()],
            "notes": list(self.notes),
            "errors": [i.as_dict() for i in self.sorted_issues()],
        }

    def to_csv(self) -> str:
        """The same issues as CSV, for people who read reports in a spreadsheet. Every cell is
        passed through :func:`spreadsheet_safe`: values, column names and messages quote what
        the uploaded file held, and a cell such as ``=HYPERLINK(...)`` must stay text."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["rule", "row", "column", "value", "message", "hint"])
        for i in self.sorted_issues():
            writer.writerow([spreadsheet_safe(cell) for cell in (
                i.rule.value, i.row or "", i.column or "", i.value or "", i.message,
                i.hint or "")])
        return buf.getvalue()

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Report:
        """Rebuild a report stored as JSON (the server keeps reports this way)."""
        report = cls(standard=str(data["standard"]), file_format=data.get("format"),  # type: ignore[arg-type]
                     rows=int(data.get("rows", 0)),  # type: ignore[arg-type]
                     notes=list(data.get("notes", [])))  # type: ignore[arg-type]
        for s in data.get("summary", []):  # type: ignore[union-attr]
            report.counts[Rule(s["rule"])] = int(s["count"])
        for e in data.get("errors", []):  # type: ignore[union-attr]
            report.issues.append(Issue(rule=Rule(e["rule"]), message=e["message"], row=e.get("row"),
                                       column=e.get("column"), value=e.get("value"),
                                       hint=e.get("hint")))
        return report
