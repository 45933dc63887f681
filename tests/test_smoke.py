"""The shipped example is valid: the README's first command must succeed."""

from pathlib import Path

from standards.validation import validate_file

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "KAZ_2026-Q3.csv"


def test_shipped_example_is_valid() -> None:
    report = validate_file(EXAMPLE, country="KAZ", period="2026-Q3")
    assert report.valid, report.as_dict()
    assert report.rows > 10_000
