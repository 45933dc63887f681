"""How the engine evaluates its checks (issue 1, speed): on each column's dictionary of distinct
values, without pandera or pandas, with hints computed once per value. The published pandera
schema must still say the same thing, and the two evaluations of additivity must agree."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from unittest import mock

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from standards.validation import Rule, validate_file
from standards.validation import additivity as additivity_module
from standards.validation.codes import edit_distances, nearest_code
from tests.conftest import COUNTRY, PERIOD, corrupt, file_row, row_index
from tests.test_read_limits import deadline

ROOT = Path(__file__).resolve().parents[1]


def test_validating_never_imports_pandera_or_pandas(example, tmp_path) -> None:
    """pandera.polars pulls in pandas: 1.3 s of the 3.4 s of ``mmx validate`` on 1M rows."""
    valid = tmp_path / "valid.csv"
    example.write_csv(valid)
    broken = tmp_path / "broken.csv"
    corrupt(corrupt(example, 5, "SEX", "X"), 9, "OBS_VALUE", "-4").write_csv(broken)
    code = (
        "import sys\n"
        "from standards.validation import validate_file\n"
        f"assert validate_file({str(valid)!r}).valid\n"
        f"assert not validate_file({str(broken)!r}).valid\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pandera', 'pandas', 'hypothesis'))\n"
        "print(loaded)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": ""}, check=True)
    assert out.stdout.strip() == "[]"


# --- the published pandera schema and the engine agree -------------------------------------------

CHECK_TO_RULE = {"not_nullable": Rule.REQUIRED_VALUE}


def schema_findings(frame: pl.DataFrame, standard, country, period) -> set[tuple[str, int, str]]:
    """(rule, row, column) of what the DSD-generated pandera schema finds in a frame of strings,
    declared-match failures on malformed values left out as the engine leaves them out."""
    import pandera.polars as pa

    from standards.validation.schema import build_schema, typed_frame

    try:
        build_schema(standard, country=country, period=period).validate(
            typed_frame(frame, standard), lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
    else:
        return set()
    found = set()
    for check, column, index in cases.select("check", "column", "index").iter_rows():
        rule = CHECK_TO_RULE.get(check) or Rule(check)
        found.add((rule.value, int(index) + 2, column if rule != Rule.DUPLICATE_KEY else ""))
    malformed = {(r, c) for rule, r, c in found
                 if rule in (Rule.CODE_LIST.value, Rule.PERIOD_FORMAT.value)}
    return {f for f in found if f[0] != Rule.DECLARED_MATCH.value or (f[1], f[2]) not in malformed}


def engine_findings(report) -> set[tuple[str, int, str]]:
    schema_rules = {Rule.CODE_LIST, Rule.PERIOD_FORMAT, Rule.REQUIRED_VALUE, Rule.NON_NEGATIVE,
                    Rule.DECLARED_MATCH, Rule.DUPLICATE_KEY}
    found = set()
    for issue in report.issues:
        if issue.rule not in schema_rules:
            continue
        if issue.rule == Rule.DUPLICATE_KEY:  # the schema flags the first row of a key too
            first = int(re.search(r"row (\d+)", issue.message).group(1))
            found |= {(issue.rule.value, issue.row, ""), (issue.rule.value, first, "")}
        else:
            found.add((issue.rule.value, issue.row, issue.column))
    return found


CORRUPTIONS = [
    ("REF_AREA", "KAS"), ("REF_AREA", "KGZ"), ("TIME_PERIOD", "2026Q3"),
    ("TIME_PERIOD", "2026-Q2"), ("POP_GROUP", None), ("SEX", "f"), ("AGE", "Y99"),
    ("CITIZENSHIP", "STLS"), ("CITIZENSHIP", "ZZZ"), ("OBS_VALUE", "-3"),
    ("OBS_STATUS", "Q"), ("OBS_STATUS", None), ("MEASURE", None), ("FREQ", "QQ"),
    ("COUNTERPART_AREA", "ZZZ"), ("SPEC_NEED", None), ("UNIT_MEASURE", "PERS"),
    ("CONF_STATUS", "F"),
]


def test_pandera_schema_and_engine_agree_on_a_corrupted_example(example, standard,
                                                                validate_frame) -> None:
    frame = example
    for k, (column, value) in enumerate(CORRUPTIONS):
        frame = corrupt(frame, 20 + 7 * k, column, value)
    frame = pl.concat([frame, frame[[3, 4]]])  # two duplicate keys
    report = validate_frame(frame, country=COUNTRY, period=PERIOD)
    expected = engine_findings(report)
    assert {rule for rule, _, _ in expected} == {
        "code_list", "period_format", "required_value", "non_negative", "declared_match",
        "duplicate_key"}
    assert schema_findings(frame, standard, COUNTRY, PERIOD) == expected


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.tuples(st.integers(0, 400), st.sampled_from(CORRUPTIONS)),
                      min_size=1, max_size=6),
       declared=st.booleans())
def test_pandera_schema_and_engine_agree_on_random_corruptions(example, standard, validate_frame,
                                                               picks, declared) -> None:
    frame = example
    for index, (column, value) in picks:
        frame = corrupt(frame, index, column, value)
    country, period = (COUNTRY, PERIOD) if declared else (None, None)
    report = validate_frame(frame, country=country, period=period, max_per_rule=10_000)
    assert schema_findings(frame, standard, country, period) == engine_findings(report)


# --- additivity: the cube and the grouping agree -------------------------------------------------

@st.composite
def perturbed(draw, example: pl.DataFrame) -> pl.DataFrame:
    frame = example
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, frame.height - 1))
        kind = draw(st.sampled_from(["bump", "bump", "missing", "misfiled", "drop", "repeat"]))
        if kind == "bump":
            frame = corrupt(frame, i, "OBS_VALUE", str(int(frame[i, "OBS_VALUE"] or 0)
                                                        + draw(st.integers(-3, 3))))
        elif kind == "missing":
            frame = corrupt(corrupt(frame, i, "OBS_VALUE", None), i, "OBS_STATUS",
                            draw(st.sampled_from(["O", "L", "M"])))
        elif kind == "misfiled":
            frame = corrupt(frame, i, "REF_AREA", "KGZ")
        elif kind == "drop":
            frame = frame.filter(pl.int_range(pl.len()) != i)
        else:
            frame = pl.concat([frame, frame[i]])
    return frame


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_additivity_cube_and_grouping_agree(example, validate_frame, data) -> None:
    frame = data.draw(perturbed(example))
    reports = []
    for cells_per_row in (0, 10**9):  # 0: never a cube; 10**9: always one
        with mock.patch.object(additivity_module, "CUBE_CELLS_PER_ROW", cells_per_row):
            reports.append(validate_frame(frame, country=COUNTRY, max_per_rule=5).as_dict())
    assert reports[0] == reports[1]


def test_both_evaluations_report_a_broken_breakdown_the_same_way(example, validate_frame) -> None:
    i = row_index(example, POP_GROUP="REF", SPEC_NEED="_T", MEASURE="STOCK", CITIZENSHIP="AFG",
                  SEX="F", AGE="Y18T59")
    frame = corrupt(example, i, "OBS_VALUE", str(int(example[i, "OBS_VALUE"]) + 2))
    for cells_per_row in (0, 10**9):
        with mock.patch.object(additivity_module, "CUBE_CELLS_PER_ROW", cells_per_row):
            report = validate_frame(frame)
        assert report.counts == {Rule.ADDITIVITY: 3}
        assert all("add up to" in issue.message for issue in report.issues)


# --- hints ---------------------------------------------------------------------------------------

def levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def reference_hint(value: str, codes: tuple[str, ...], column: str) -> str:
    """The hint as the engine always gave it: plain Levenshtein against every code."""
    upper = value.strip().upper()
    if upper in codes:
        return f"Write {upper}: codes are upper case, without spaces."

    def prefix(code: str) -> int:
        return next((i for i, (a, b) in enumerate(zip(upper, code, strict=False)) if a != b),
                    min(len(upper), len(code)))

    best = min(codes, key=lambda c: (levenshtein(upper, c), -prefix(c), c))
    if levenshtein(upper, best) <= max(1, len(best) // 2):
        return f"Did you mean {best}?"
    return f"See `mmx standard show {column}` for the codes."


CODE_LISTS = ["CL_AREA", "CL_CITIZENSHIP", "CL_AGE", "CL_SEX", "CL_POP_GROUP", "CL_MEASURE"]


@settings(max_examples=200, deadline=None)
@given(value=st.text(alphabet="AFGKSTUYZ_0123456789- af", max_size=12),
       codelist=st.sampled_from(CODE_LISTS))
def test_nearest_code_is_the_plain_levenshtein_answer(value, codelist) -> None:
    from standards import load_standard

    codes = load_standard().codelists[codelist].ids
    assert nearest_code(value, codes, "X") == reference_hint(value, codes, "X")
    if value:
        assert edit_distances(value, codes).tolist() == [levenshtein(value, c) for c in codes]


def test_hint_for_a_huge_value_is_immediate(standard) -> None:
    codes = standard.codelists["CL_CITIZENSHIP"].ids
    with deadline(2):
        hint = nearest_code("A" * 5_000_000, codes, "CITIZENSHIP")
    assert hint == "See `mmx standard show CITIZENSHIP` for the codes."


def test_hints_are_computed_once_per_distinct_value(example, validate_frame) -> None:
    frame = example.with_columns(
        pl.when(pl.int_range(pl.len()) % 3 == 0).then(pl.lit("AFX"))
        .otherwise(pl.col("CITIZENSHIP")).alias("CITIZENSHIP"))
    nearest_code.cache_clear()
    report = validate_frame(frame)
    assert report.counts[Rule.CODE_LIST] == (example.height + 2) // 3
    assert nearest_code.cache_info().misses == 1
    assert {i.hint for i in report.issues if i.rule == Rule.CODE_LIST} == {"Did you mean AFG?"}


# --- rows are the file's rows, whatever was mapped ------------------------------------------------

def test_rows_after_summed_national_age_bands_are_still_file_rows(example, write_csv) -> None:
    """Nested bands are summed into one row; later issues still point at their file row."""
    key = {"POP_GROUP": "REF", "SPEC_NEED": "_T", "MEASURE": "STOCK", "CITIZENSHIP": "AFG",
           "SEX": "F"}
    i = row_index(example, AGE="Y0T4", **key)
    value = int(example[i, "OBS_VALUE"])
    split = example[i].with_columns(pl.lit("Y2T4").alias("AGE"),
                                    pl.lit(str(value - 1)).alias("OBS_VALUE"))
    frame = corrupt(corrupt(example, i, "AGE", "Y0T1"), i, "OBS_VALUE", "1")
    frame = pl.concat([frame[: i + 1], split, frame[i + 1:]])  # the split row right after
    frame = corrupt(frame, frame.height - 5, "SEX", "X")
    report = validate_file(write_csv(frame))
    (issue,) = [i for i in report.issues if i.rule == Rule.CODE_LIST]
    assert issue.row == file_row(frame.height - 5)
    assert any("nested band" in note for note in report.notes)


def test_a_band_like_value_elsewhere_does_not_hide_empty_ages(example, validate_frame) -> None:
    """A citizenship written Y1T2 is not an age band of the AGE column."""
    frame = corrupt(corrupt(example, 30, "CITIZENSHIP", "Y1T2"), 60, "AGE", None)
    report = validate_frame(frame)
    assert report.counts[Rule.REQUIRED_VALUE] == 1
    assert [i.row for i in report.issues if i.rule == Rule.REQUIRED_VALUE] == [file_row(60)]
