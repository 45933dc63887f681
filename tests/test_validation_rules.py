"""Every validation rule, one corruption of the valid example at a time.

Each test changes one thing in a valid KAZ 2026-Q3 submission and checks that the engine reports
exactly that: the rule id, the row in the file (header = row 1), the column, the value and the hint.
"""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from standards.validation import Rule
from tests.conftest import COUNTRY, PERIOD, corrupt, file_row, issues_of, row_index

# A part cell of a specific-needs group: inside its status, sex and age breakdowns, a subset of
# all persons (SPEC_NEED=_T) of its key, and in no sum over needs.
VOT_CELL = dict(POP_GROUP="ASY", SPEC_NEED="VOT", MEASURE="STOCK", CITIZENSHIP="AFG", SEX="F",
                AGE="Y18T59")
# A cell of all persons of a status group: inside the same three breakdowns.
REF_CELL = dict(POP_GROUP="REF", SPEC_NEED="_T", MEASURE="STOCK", CITIZENSHIP="AFG", SEX="F",
                AGE="Y18T59")
# The codes that mark a value as missing: no reason given (O), exists but not collected (L),
# cannot exist (M).
MISSING_CODES = ["O", "L", "M"]
MIDDLE = 100  # a row well inside the file, away from the header


def only(report, rule):
    """The one issue of ``rule``, after checking it is the only thing reported."""
    assert report.counts == {rule: 1}, report.as_dict()
    (issue,) = report.issues
    return issue


def bump(frame: pl.DataFrame, index: int, by: int) -> pl.DataFrame:
    return corrupt(frame, index, "OBS_VALUE", str(int(frame[index, "OBS_VALUE"]) + by))


# --- the baseline --------------------------------------------------------------------------------

def test_the_example_is_valid(example, validate_frame) -> None:
    report = validate_frame(example, country=COUNTRY, period=PERIOD)
    assert report.valid, report.as_dict()
    assert report.exit_code == 0
    assert report.usable
    assert report.issues == [] and report.counts == {} and report.notes == []
    assert report.rows == example.height
    assert report.file_format == "csv"


def test_declaring_nothing_still_validates_the_example(example, validate_frame) -> None:
    assert validate_frame(example).valid


# --- code lists ----------------------------------------------------------------------------------

def test_unknown_country_code_is_reported_with_the_nearest_code(example, validate_frame) -> None:
    issue = only(validate_frame(corrupt(example, MIDDLE, "REF_AREA", "KAS")), Rule.CODE_LIST)
    assert (issue.row, issue.column, issue.value) == (file_row(MIDDLE), "REF_AREA", "KAS")
    assert issue.hint == "Did you mean KAZ?"
    assert "CL_AREA" in issue.message


def test_lower_case_code_is_reported_with_the_upper_case_spelling(example, validate_frame) -> None:
    issue = only(validate_frame(corrupt(example, MIDDLE, "SEX", "f")), Rule.CODE_LIST)
    assert (issue.row, issue.column, issue.value) == (file_row(MIDDLE), "SEX", "f")
    assert issue.hint == "Write F: codes are upper case, without spaces."


def test_padded_code_is_reported_with_a_hint_to_remove_spaces(example, validate_frame) -> None:
    issue = only(validate_frame(corrupt(example, MIDDLE, "AGE", " Y18T59")), Rule.CODE_LIST)
    assert (issue.row, issue.column, issue.value) == (file_row(MIDDLE), "AGE", " Y18T59")
    assert issue.hint == "Write Y18T59: codes are upper case, without spaces."


def test_stateless_is_a_citizenship_but_not_a_reporting_state(example, validate_frame) -> None:
    issue = only(validate_frame(corrupt(example, MIDDLE, "REF_AREA", "STLS")), Rule.CODE_LIST)
    assert (issue.row, issue.column, issue.value) == (file_row(MIDDLE), "REF_AREA", "STLS")


def test_unknown_obs_status_is_a_code_list_error(example, validate_frame) -> None:
    issue = only(validate_frame(corrupt(example, MIDDLE, "OBS_STATUS", "X")), Rule.CODE_LIST)
    assert (issue.row, issue.column, issue.value) == (file_row(MIDDLE), "OBS_STATUS", "X")
    assert "CL_OBS_STATUS" in issue.message


def test_code_far_from_every_code_points_to_the_code_list(example, validate_frame) -> None:
    issue = only(validate_frame(corrupt(example, MIDDLE, "MEASURE", "QWERTYUIOP")),
                 Rule.CODE_LIST)
    assert issue.hint == "See `mmx standard show MEASURE` for the codes."


def test_invalid_dimension_value_skips_additivity_with_a_note(example, validate_frame) -> None:
    """Breakdowns cannot be assembled around a row whose key is unknown: say so, don't guess."""
    report = validate_frame(corrupt(example, MIDDLE, "CITIZENSHIP", "XXX"))
    assert Rule.ADDITIVITY not in report.counts
    assert any("Additivity was not checked" in note for note in report.notes)


# --- periods -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("written", "hint"), [
    ("2026Q3", "Write 2026-Q3."),
    ("2026-q3", "Write 2026-Q3."),
    ("Q3 2026", "Write 2026-Q3."),
    ("2026", "Quarters are written YYYY-Qn (e.g. 2026-Q3), emergency weeks YYYY-Www (e.g. "
             "2026-W48); annual figures are derived, not uploaded."),
])
def test_badly_written_quarter_is_a_period_format_error(example, validate_frame, written,
                                                        hint) -> None:
    issue = only(validate_frame(corrupt(example, MIDDLE, "TIME_PERIOD", written)),
                 Rule.PERIOD_FORMAT)
    assert (issue.row, issue.column, issue.value) == (file_row(MIDDLE), "TIME_PERIOD", written)
    assert issue.hint == hint


def test_badly_written_quarter_is_not_also_a_declared_mismatch(example, validate_frame) -> None:
    """One mistake, one error: a malformed period is not reported again against the declared."""
    report = validate_frame(corrupt(example, MIDDLE, "TIME_PERIOD", "2026Q3"), period=PERIOD)
    assert report.counts == {Rule.PERIOD_FORMAT: 1}


# --- counts --------------------------------------------------------------------------------------

def test_negative_count_is_reported(example, validate_frame) -> None:
    issue = only(validate_frame(corrupt(example, MIDDLE, "OBS_VALUE", "-3")), Rule.NON_NEGATIVE)
    assert (issue.row, issue.column, issue.value) == (file_row(MIDDLE), "OBS_VALUE", "-3")
    assert issue.hint == "Counts are zero or more."


@pytest.mark.parametrize(("written", "hint"), [
    ("12.5", "Counts are whole numbers; leave it empty with OBS_STATUS O, L or M."),
    ("12.0", "Write 12 without decimals."),
    ("1,234", "Write 1234 without thousands separators."),
    ("n/a", "Counts are whole numbers; leave it empty with OBS_STATUS O, L or M."),
])
def test_count_that_is_not_a_whole_number_is_a_type_error(example, validate_frame, written,
                                                          hint) -> None:
    issue = only(validate_frame(corrupt(example, MIDDLE, "OBS_VALUE", written)), Rule.TYPE)
    assert (issue.row, issue.column, issue.value) == (file_row(MIDDLE), "OBS_VALUE", written)
    assert issue.hint == hint


def test_zero_is_a_valid_count(example, validate_frame) -> None:
    """Zero is a count like any other; only its breakdowns have to agree."""
    index = row_index(example, **VOT_CELL)
    delta = -int(example[index, "OBS_VALUE"])
    assert delta < 0, "pick a cell with a positive count"
    frame = corrupt(example, index, "OBS_VALUE", "0")
    for group in (VOT_CELL["POP_GROUP"], "_T"):
        for sex in (VOT_CELL["SEX"], "_T"):
            for age in (VOT_CELL["AGE"], "_T"):
                total = dict(POP_GROUP=group, SEX=sex, AGE=age)
                if total != {k: VOT_CELL[k] for k in total}:
                    frame = bump(frame, row_index(frame, **{**VOT_CELL, **total}), delta)
    report = validate_frame(frame)
    assert report.valid, report.as_dict()


# --- missing values ------------------------------------------------------------------------------

def test_empty_count_without_a_missing_status_is_a_missing_value_error(example,
                                                                        validate_frame) -> None:
    issue = only(validate_frame(corrupt(example, MIDDLE, "OBS_VALUE", None)), Rule.MISSING_VALUE)
    assert (issue.row, issue.column, issue.value) == (file_row(MIDDLE), "OBS_VALUE", None)
    assert issue.hint == ("Give the count, or mark the cell OBS_STATUS=O (missing), L (exists, "
                          "not collected) or M (cannot exist).")


@pytest.mark.parametrize("status", MISSING_CODES)
def test_missing_status_with_a_count_is_a_missing_value_error(example, validate_frame,
                                                              status) -> None:
    issue = only(validate_frame(corrupt(example, MIDDLE, "OBS_STATUS", status)),
                 Rule.MISSING_VALUE)
    assert (issue.row, issue.column) == (file_row(MIDDLE), "OBS_STATUS")
    assert issue.hint == "Remove the missing-value code or the count."


@pytest.mark.parametrize("status", MISSING_CODES)
def test_empty_count_with_a_missing_status_is_valid(example, validate_frame, status) -> None:
    index = row_index(example, **VOT_CELL)
    frame = corrupt(corrupt(example, index, "OBS_VALUE", None), index, "OBS_STATUS", status)
    report = validate_frame(frame)
    assert report.valid, report.as_dict()


def test_empty_obs_status_is_allowed(example, validate_frame) -> None:
    assert validate_frame(corrupt(example, MIDDLE, "OBS_STATUS", None)).valid


# --- required values -----------------------------------------------------------------------------

@pytest.mark.parametrize("column", ["FREQ", "REF_AREA", "COUNTERPART_AREA", "POP_GROUP",
                                    "SPEC_NEED", "MEASURE", "CITIZENSHIP", "SEX", "AGE",
                                    "TIME_PERIOD"])
def test_empty_dimension_value_is_a_required_value_error(example, validate_frame, column) -> None:
    issue = only(validate_frame(corrupt(example, MIDDLE, column, None)), Rule.REQUIRED_VALUE)
    assert (issue.row, issue.column, issue.value) == (file_row(MIDDLE), column, None)
    assert "_U" in issue.hint and "UNK" in issue.hint


# --- declared country and quarter ----------------------------------------------------------------

def test_file_of_another_country_than_declared_is_reported(example, validate_frame) -> None:
    report = validate_frame(example, country="KGZ", period=PERIOD)
    assert report.counts == {Rule.DECLARED_MATCH: example.height}
    first = issues_of(report, Rule.DECLARED_MATCH)[0]
    assert (first.row, first.column, first.value) == (2, "REF_AREA", "KAZ")
    assert "KGZ" in first.hint


def test_file_of_another_quarter_than_declared_is_reported(example, validate_frame) -> None:
    report = validate_frame(example, country=COUNTRY, period="2026-Q2")
    assert report.counts == {Rule.DECLARED_MATCH: example.height}
    first = issues_of(report, Rule.DECLARED_MATCH)[0]
    assert (first.row, first.column, first.value) == (2, "TIME_PERIOD", PERIOD)
    assert "2026-Q2" in first.hint


def test_one_row_of_another_quarter_is_reported_at_that_row(example, validate_frame) -> None:
    report = validate_frame(corrupt(example, MIDDLE, "TIME_PERIOD", "2026-Q2"), period=PERIOD)
    (issue,) = issues_of(report, Rule.DECLARED_MATCH)
    assert (issue.row, issue.column, issue.value) == (file_row(MIDDLE), "TIME_PERIOD", "2026-Q2")
    assert report.counts[Rule.DECLARED_MATCH] == 1


def test_a_row_off_the_declared_quarter_does_not_also_break_additivity(example,
                                                                        validate_frame) -> None:
    """One wrong cell, one error. The engine skips breakdowns around rows with errors of their
    own; moving a part to another quarter must not make its old breakdown look short as well."""
    index = row_index(example, **REF_CELL)
    report = validate_frame(corrupt(example, index, "TIME_PERIOD", "2026-Q2"), period=PERIOD)
    assert report.counts == {Rule.DECLARED_MATCH: 1}, report.as_dict()


def test_wrong_country_code_is_not_also_a_declared_mismatch(example, validate_frame) -> None:
    report = validate_frame(corrupt(example, MIDDLE, "REF_AREA", "KAS"), country=COUNTRY)
    assert report.counts == {Rule.CODE_LIST: 1}


# --- keys ----------------------------------------------------------------------------------------

def test_repeated_row_is_a_duplicate_key_pointing_at_the_first(example, validate_frame) -> None:
    frame = pl.concat([example, example[MIDDLE]])
    issue = only(validate_frame(frame), Rule.DUPLICATE_KEY)
    assert issue.row == file_row(example.height)
    assert f"row {file_row(MIDDLE)}" in issue.message
    assert issue.value == " ".join(example.row(MIDDLE)[:10])


def test_same_key_with_another_count_is_still_a_duplicate(example, validate_frame) -> None:
    frame = pl.concat([example, bump(example[MIDDLE], 0, 7)])
    issue = only(validate_frame(frame), Rule.DUPLICATE_KEY)
    assert issue.row == file_row(example.height)
    assert f"row {file_row(MIDDLE)}" in issue.message


def test_rows_differing_only_in_count_or_status_are_duplicates(example, validate_frame) -> None:
    """The key is the ten dimensions: OBS_STATUS is an attribute, not part of the key."""
    copy = corrupt(example[MIDDLE], 0, "OBS_STATUS", "P")
    report = validate_frame(pl.concat([example, copy]))
    assert report.counts == {Rule.DUPLICATE_KEY: 1}


# --- additivity ----------------------------------------------------------------------------------

def test_sex_parts_not_adding_up_are_reported_at_the_total_row(example, validate_frame) -> None:
    index = row_index(example, **VOT_CELL)
    report = validate_frame(bump(example, index, 5))
    total = row_index(example, **{**VOT_CELL, "SEX": "_T"})
    (issue,) = [i for i in issues_of(report, Rule.ADDITIVITY) if i.message.startswith("SEX ")]
    expected = int(example[total, "OBS_VALUE"])
    f, m, u = (int(example[row_index(example, **{**VOT_CELL, "SEX": s}), "OBS_VALUE"])
               for s in ("F", "M", "_U"))
    assert (issue.row, issue.column, issue.value) == (file_row(total), "OBS_VALUE", str(expected))
    assert issue.message == (f"SEX parts add up to {expected + 5} (F {f + 5} + M {m} + _U {u}) "
                             f"but SEX=_T is {expected}.")
    assert issue.hint.startswith("Difference -5")


def test_age_parts_not_adding_up_are_reported_at_the_total_row(example, validate_frame) -> None:
    index = row_index(example, **VOT_CELL)
    report = validate_frame(bump(example, index, -1))
    total = row_index(example, **{**VOT_CELL, "AGE": "_T"})
    (issue,) = [i for i in issues_of(report, Rule.ADDITIVITY) if i.message.startswith("AGE ")]
    assert (issue.row, issue.column) == (file_row(total), "OBS_VALUE")
    assert issue.value == example[total, "OBS_VALUE"]
    for band in ("Y0T4", "Y5T11", "Y12T17", "Y18T59", "Y_GE60", "_U"):
        assert f"{band} " in issue.message
    assert issue.hint.startswith("Difference +1")


def test_one_wrong_cell_breaks_exactly_its_status_sex_and_age_breakdowns(example,
                                                                          validate_frame) -> None:
    """A specific-needs cell sits in one status, one sex and one age breakdown, and in no sum
    over needs (SPEC_NEED=_T is not the sum of the needs)."""
    report = validate_frame(bump(example, row_index(example, **VOT_CELL), 1))
    rows = {i.row for i in report.issues}
    assert report.counts == {Rule.ADDITIVITY: 3}
    assert rows == {file_row(row_index(example, **{**VOT_CELL, "POP_GROUP": "_T"})),
                    file_row(row_index(example, **{**VOT_CELL, "SEX": "_T"})),
                    file_row(row_index(example, **{**VOT_CELL, "AGE": "_T"}))}


def test_status_groups_not_adding_up_are_reported_at_the_pop_group_total(example,
                                                                         validate_frame) -> None:
    report = validate_frame(bump(example, row_index(example, **REF_CELL), 2))
    total = row_index(example, **{**REF_CELL, "POP_GROUP": "_T"})
    (issue,) = [i for i in issues_of(report, Rule.ADDITIVITY)
                if i.message.startswith("POP_GROUP ")]
    assert (issue.row, issue.column) == (file_row(total), "OBS_VALUE")
    assert issue.value == example[total, "OBS_VALUE"]
    stock_groups = example.filter(pl.col("MEASURE") == "STOCK", pl.col("SPEC_NEED") == "_T",
                                  pl.col("POP_GROUP") != "_T")["POP_GROUP"].unique()
    for group in stock_groups:  # each status group once: the specific needs are not mixed in
        assert issue.message.count(f" {group} ") + issue.message.count(f"({group} ") == 1, group
    assert issue.hint.startswith("Difference -2")
    assert report.counts == {Rule.ADDITIVITY: 3}  # its POP_GROUP, SEX and AGE breakdowns


def test_specific_needs_groups_are_not_summed_into_the_total(example, validate_frame) -> None:
    """Victims of trafficking, children, smuggled migrants and survivors cut across statuses and
    are subsets of all persons, never parts of them: setting every one of their counts to zero
    (consistently in status, sex and age) leaves SPEC_NEED=_T, and the file, valid."""
    needs = pl.col("SPEC_NEED") != "_T"
    frame = example.with_columns(
        pl.when(needs).then(pl.lit("0")).otherwise(pl.col("OBS_VALUE")).alias("OBS_VALUE"))
    assert frame["OBS_VALUE"].to_list() != example["OBS_VALUE"].to_list()
    report = validate_frame(frame)
    assert report.valid, report.as_dict()


def test_total_that_includes_specific_needs_groups_is_wrong(example, validate_frame) -> None:
    """All persons (SPEC_NEED=_T) already include the victims of trafficking: adding the VOT
    count on top of them is exactly the double count the standard forbids."""
    vot = row_index(example, **VOT_CELL)
    frame = bump(example, row_index(example, **{**VOT_CELL, "SPEC_NEED": "_T"}),
                 int(example[vot, "OBS_VALUE"]) or 1)
    report = validate_frame(frame)
    assert any(i.message.startswith("POP_GROUP ") for i in issues_of(report, Rule.ADDITIVITY))


@pytest.mark.parametrize("status", MISSING_CODES)
def test_breakdown_with_a_part_missing_is_not_checked(example, validate_frame, status) -> None:
    """A part marked missing (O, L or M) has no value to add; its breakdowns cannot be checked,
    and are not reported as wrong."""
    index = row_index(example, **REF_CELL)
    frame = corrupt(corrupt(example, index, "OBS_VALUE", None), index, "OBS_STATUS", status)
    report = validate_frame(frame)
    assert report.valid, report.as_dict()


# --- structure -----------------------------------------------------------------------------------

def test_misspelt_column_is_reported_with_the_nearest_column(example, validate_frame) -> None:
    report = validate_frame(example.rename({"CITIZENSHIP": "CITIZENSHP"}))
    unexpected = [i for i in issues_of(report, Rule.STRUCTURE) if i.column == "CITIZENSHP"]
    assert len(unexpected) == 1
    assert unexpected[0].row == 1
    assert unexpected[0].hint == "Did you mean CITIZENSHIP?"


def test_extra_unknown_column_is_a_structure_error(example, validate_frame) -> None:
    report = validate_frame(example.with_columns(pl.lit("x").alias("OBS_STATUSES")))
    issue = only(report, Rule.STRUCTURE)
    assert (issue.row, issue.column) == (1, "OBS_STATUSES")
    assert issue.hint == "Did you mean OBS_STATUS?"


def test_missing_column_is_a_structure_error(example, validate_frame) -> None:
    issue = only(validate_frame(example.drop("SEX")), Rule.STRUCTURE)
    assert (issue.row, issue.column) == (1, "SEX")
    assert "missing" in issue.message


def test_obs_status_column_may_be_left_out(example, validate_frame) -> None:
    assert validate_frame(example.drop("OBS_STATUS")).valid


def test_repeated_column_is_a_structure_error(example, write_csv) -> None:
    from standards.validation import validate_file

    text = example.write_csv()
    header, rest = text.split("\n", 1)
    lines = [f"{line},A" for line in rest.splitlines()]
    report = validate_file(write_csv(header + ",OBS_STATUS\n" + "\n".join(lines) + "\n"))
    issues = [i for i in issues_of(report, Rule.STRUCTURE) if i.column == "OBS_STATUS"]
    assert [i.row for i in issues] == [1]


def test_column_order_and_header_case_do_not_matter(example, validate_frame) -> None:
    frame = example.select(list(reversed(example.columns)))
    frame = frame.rename({c: c.lower() for c in frame.columns})
    report = validate_frame(frame)
    assert report.valid, report.as_dict()


# --- a column wrong on every row ------------------------------------------------------------------

@pytest.mark.parametrize(("column", "value", "rule"), [
    ("TIME_PERIOD", "2026Q3", Rule.PERIOD_FORMAT),
    ("TIME_PERIOD", None, Rule.REQUIRED_VALUE),
    ("SEX", "Q", Rule.CODE_LIST),
    ("OBS_VALUE", "x", Rule.TYPE),
])
def test_column_wrong_on_every_row_is_reported_on_every_row(example, validate_frame, column,
                                                            value, rule) -> None:
    """No valid value left in a column is a common export mistake, not a reason to crash."""
    frame = example.with_columns(pl.lit(value, dtype=pl.Utf8).alias(column))
    report = validate_frame(frame, max_per_rule=5)
    assert report.counts == {rule: example.height}
    kept = issues_of(report, rule)
    assert [(i.row, i.column) for i in kept] == [(file_row(n), column) for n in range(5)]


# --- property: any single corruption is caught where it is ---------------------------------------

CODED = ["FREQ", "REF_AREA", "COUNTERPART_AREA", "POP_GROUP", "SPEC_NEED", "MEASURE",
         "CITIZENSHIP", "SEX", "AGE", "OBS_STATUS", "UNIT_MEASURE", "CONF_STATUS"]
DIMENSIONS = ["FREQ", "REF_AREA", "COUNTERPART_AREA", "POP_GROUP", "SPEC_NEED", "MEASURE",
              "CITIZENSHIP", "SEX", "AGE", "TIME_PERIOD"]
CORRUPTIONS = {
    # kind: (rule, columns it may hit, value written)
    "bad code": (Rule.CODE_LIST, CODED, "ZZQ"),
    "bad period": (Rule.PERIOD_FORMAT, ["TIME_PERIOD"], "2026Q3"),
    "empty dimension": (Rule.REQUIRED_VALUE, DIMENSIONS, None),
    "negative count": (Rule.NON_NEGATIVE, ["OBS_VALUE"], "-1"),
    "fractional count": (Rule.TYPE, ["OBS_VALUE"], "2.5"),
    "empty count": (Rule.MISSING_VALUE, ["OBS_VALUE"], None),
}


@st.composite
def single_corruption(draw, height: int):
    kind = draw(st.sampled_from(sorted(CORRUPTIONS)))
    rule, columns, value = CORRUPTIONS[kind]
    return draw(st.integers(0, height - 1)), draw(st.sampled_from(columns)), value, rule


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_any_single_corruption_is_reported_at_its_row_and_column(example, validate_frame,
                                                                  data) -> None:
    index, column, value, rule = data.draw(single_corruption(example.height))
    report = validate_frame(corrupt(example, index, column, value))
    issue = only(report, rule)
    assert (issue.row, issue.column) == (file_row(index), column)
    if value is not None and rule != Rule.MISSING_VALUE:
        assert issue.value == value
