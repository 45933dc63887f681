"""Standard 2.0.0: the rules it adds, the shapes it accepts, and 1.0.0 files mapped forward.

Each rule test corrupts one thing in a valid example and checks that exactly that is reported,
at its row and column, with a hint; the shape tests check what a file in Eurostat bands, a file
without the optional columns, a rounded file and a 1.0.0 file become.
"""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from standards import load_standard
from standards.example import example_frame
from standards.harmonize import derive_totals, load_harmonized
from standards.validation import Rule
from tests.conftest import COUNTRY, PERIOD, corrupt, file_row, issues_of, row_index


def only(report, rule):
    assert report.counts == {rule: 1}, report.as_dict()
    (issue,) = report.issues
    return issue


def strings(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.all().cast(pl.Utf8))


# --- every generated example passes every rule ---------------------------------------------------

@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), bands=st.sampled_from(["unhcr", "eurostat", "base", "coarse"]),
       citizenships=st.integers(1, 4), period=st.sampled_from(["2026-Q3", "2026-W48"]),
       country=st.sampled_from(["KAZ", "KGZ", "TUR", "SEN"]))
def test_every_generated_example_passes_every_rule(seed, bands, citizenships, period, country,
                                                   validate_frame) -> None:
    frame = example_frame(load_standard(), country, period, citizenships=citizenships,
                          bands=bands, seed=seed)
    report = validate_frame(strings(frame), country=country, period=period)
    assert report.valid, report.as_dict()
    assert report.issues == []


def test_the_shipped_example_is_valid_and_in_2_0_0_shape(validate_frame) -> None:
    from pathlib import Path

    from standards.validation import validate_file

    path = Path(__file__).resolve().parents[1] / "examples" / "KAZ_2026-Q3.csv"
    report = validate_file(path, country="KAZ", period="2026-Q3")
    assert report.valid, report.as_dict()
    header = path.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[:2] == ["FREQ", "REF_AREA"] and "SPEC_NEED" in header


# --- specific needs: subsets of their total, children under 18 -----------------------------------

VOT_STOCK = dict(POP_GROUP="ASY", SPEC_NEED="VOT", MEASURE="STOCK", CITIZENSHIP="AFG",
                 SEX="F", AGE="Y18T59")


def test_a_specific_need_above_its_total_is_a_subset_error(example, validate_frame) -> None:
    i = row_index(example, **VOT_STOCK)
    total = int(example[row_index(example, **{**VOT_STOCK, "SPEC_NEED": "_T"}), "OBS_VALUE"])
    frame = corrupt(example, i, "OBS_VALUE", str(total + 1))
    # The sex and age totals of VOT now disagree with the bumped cell too: only the subset rule
    # is asked about here.
    issues = issues_of(validate_frame(frame), Rule.SUBSET)
    assert issues[0].row == file_row(i) and issues[0].value == str(total + 1)
    assert f"more than SPEC_NEED=_T ({total})" in issues[0].message
    assert "part of _T" in (issues[0].hint or "")


def test_specific_needs_are_never_summed_into_their_total(example, validate_frame) -> None:
    """A total that is not the sum of its needs is right: one person can have several needs."""
    needs = example.filter(pl.col("SPEC_NEED") != "_T")
    assert needs.height and validate_frame(example).valid


def test_unaccompanied_children_in_an_adult_band_are_a_combination_error(
        example, validate_frame) -> None:
    i = row_index(example, POP_GROUP="ASY", SPEC_NEED="UAC", MEASURE="STOCK",
                  CITIZENSHIP="AFG", SEX="M", AGE="Y12T17")
    issues = issues_of(validate_frame(corrupt(example, i, "AGE", "Y_GE60")), Rule.COMBINATION)
    assert [(x.row, x.column, x.value) for x in issues] == [(file_row(i), "AGE", "Y_GE60")]
    assert "children only" in issues[0].message and "under 18" in (issues[0].hint or "")


def test_women_and_girls_at_risk_are_never_male(example, validate_frame) -> None:
    i = row_index(example, POP_GROUP="ASY", SPEC_NEED="WGR", MEASURE="STOCK",
                  CITIZENSHIP="AFG", SEX="F", AGE="Y18T59")
    issues = issues_of(validate_frame(corrupt(example, i, "SEX", "M")), Rule.COMBINATION)
    assert [(x.row, x.column) for x in issues] == [(file_row(i), "SEX")]


def test_unaccompanied_plus_separated_make_uasc(example, validate_frame) -> None:
    i = row_index(example, POP_GROUP="ASY", SPEC_NEED="UASC", MEASURE="STOCK",
                  CITIZENSHIP="AFG", SEX="F", AGE="Y0T4")
    bumped = corrupt(example, i, "OBS_VALUE", str(int(example[i, "OBS_VALUE"]) + 1))
    assert any(x.row == file_row(i) and "SPEC_NEED" in x.message
               for x in issues_of(validate_frame(bumped), Rule.ADDITIVITY))


# --- frequency, origin or destination, unit, CONF_STATUS, OBS_STATUS -----------------------------

def test_a_week_under_quarterly_frequency_is_a_combination_error(example, validate_frame) -> None:
    frame = example.with_columns(pl.lit("2026-W48").alias("TIME_PERIOD"))
    issues = issues_of(validate_frame(frame), Rule.COMBINATION)
    assert issues and all(x.column == "TIME_PERIOD" and "FREQ=Q" in x.message for x in issues)


def test_a_stock_with_an_origin_and_a_return_without_one_are_errors(example,
                                                                     validate_frame) -> None:
    stock = row_index(example, POP_GROUP="ASY", SPEC_NEED="_T", MEASURE="STOCK",
                      CITIZENSHIP="AFG", SEX="F", AGE="Y18T59")
    back = row_index(example, POP_GROUP="ASY_REJ", SPEC_NEED="_T", MEASURE="RET_VOL_ASST",
                     CITIZENSHIP="AFG", SEX="F", AGE="Y18T59")
    frame = corrupt(corrupt(example, stock, "COUNTERPART_AREA", "AFG"), back,
                    "COUNTERPART_AREA", "_Z")
    issues = issues_of(validate_frame(frame), Rule.COMBINATION)
    assert sorted((x.row, x.value) for x in issues) == sorted(
        [(file_row(stock), "AFG"), (file_row(back), "_Z")])


def test_a_unit_the_measure_does_not_admit_is_a_combination_error(example,
                                                                  validate_frame) -> None:
    i = row_index(example, POP_GROUP="ASY", SPEC_NEED="_T", MEASURE="STOCK",
                  CITIZENSHIP="AFG", SEX="F", AGE="Y18T59")
    issue = only(validate_frame(corrupt(example, i, "UNIT_MEASURE", "MVT")), Rule.COMBINATION)
    assert (issue.row, issue.column, issue.value) == (file_row(i), "UNIT_MEASURE", "MVT")


def test_a_measure_given_in_two_units_is_a_combination_error(example, validate_frame) -> None:
    i = row_index(example, POP_GROUP="ASY", SPEC_NEED="_T", MEASURE="ASY_APP_FIRST",
                  CITIZENSHIP="AFG", SEX="F", AGE="Y18T59")
    issue = only(validate_frame(corrupt(example, i, "UNIT_MEASURE", "CASE")), Rule.COMBINATION)
    assert issue.column == "UNIT_MEASURE" and "more than one unit" in issue.message


def test_a_submitter_may_flag_cells_confidential_but_not_set_exchange_codes(
        example, validate_frame) -> None:
    assert validate_frame(corrupt(example, 100, "CONF_STATUS", "C")).valid
    assert validate_frame(corrupt(example, 100, "CONF_STATUS", "N")).valid
    issue = only(validate_frame(corrupt(example, 100, "CONF_STATUS", "A")), Rule.CODE_LIST)
    assert "set by the exchange" in issue.message and "C or N" in (issue.hint or "")


@pytest.mark.parametrize("status", ["O", "L", "M"])
def test_missing_values_take_o_l_or_m(example, validate_frame, status) -> None:
    i = row_index(example, POP_GROUP="OTH", SPEC_NEED="_T", MEASURE="STOCK",
                  CITIZENSHIP="AFG", SEX="F", AGE="Y18T59")
    frame = corrupt(corrupt(example, i, "OBS_VALUE", None), i, "OBS_STATUS", status)
    assert validate_frame(frame).valid
    issue = only(validate_frame(corrupt(example, i, "OBS_STATUS", status)), Rule.MISSING_VALUE)
    assert issue.column == "OBS_STATUS"


# --- age band systems ----------------------------------------------------------------------------

def test_a_file_in_eurostat_bands_validates_and_harmonizes_to_shared_bands(
        standard, write_csv) -> None:
    from standards.validation import validate_file

    frame = example_frame(standard, "TUR", PERIOD, citizenships=2, bands="eurostat")
    assert set(frame["AGE"]) >= {"Y_LT14", "Y14T17", "Y35T64", "Y_GE65"}
    path = write_csv(frame)
    assert validate_file(path, country="TUR", period=PERIOD).valid
    rows, _ = load_harmonized(path)
    derived = derive_totals(rows, standard)
    # Under 18 and adults are derived from any system; UNHCR's bands cannot be (they cross).
    assert {"Y_LT18", "Y_GE18"} <= set(derived.filter("DERIVED")["AGE"])
    assert not {"Y12T17", "Y18T59"} & set(derived["AGE"])


def test_base_bands_harmonize_into_both_unhcr_and_eurostat_bands(standard, write_csv) -> None:
    frame = example_frame(standard, "KAZ", PERIOD, citizenships=1, bands="base")
    rows, _ = load_harmonized(write_csv(frame))
    derived = set(derive_totals(rows, standard).filter("DERIVED")["AGE"])
    assert {"Y12T17", "Y18T59", "Y_GE60", "Y_LT14", "Y35T64", "Y_LT18", "Y_GE18"} <= derived


def test_mixing_band_systems_is_an_age_bands_error(example, validate_frame) -> None:
    i = row_index(example, POP_GROUP="ASY", SPEC_NEED="_T", MEASURE="STOCK",
                  CITIZENSHIP="AFG", SEX="F", AGE="Y12T17")
    # The row left its own key, so the breakdowns of that key fail too; the bands are one issue.
    (issue,) = issues_of(validate_frame(corrupt(example, i, "AGE", "Y14T17")), Rule.AGE_BANDS)
    assert issue.value == "Y14T17" and "Eurostat" in (issue.hint or "")


def test_the_parts_of_an_age_band_system_add_up_within_it(example, validate_frame) -> None:
    i = row_index(example, POP_GROUP="ASY", SPEC_NEED="_T", MEASURE="STOCK",
                  CITIZENSHIP="AFG", SEX="F", AGE="Y12T17")
    bumped = corrupt(example, i, "OBS_VALUE", str(int(example[i, "OBS_VALUE"]) + 3))
    assert any("AGE parts" in x.message for x in issues_of(validate_frame(bumped),
                                                          Rule.ADDITIVITY))


# --- optional columns ----------------------------------------------------------------------------

def test_files_without_the_optional_columns_get_the_documented_defaults(standard,
                                                                         write_csv) -> None:
    frame = example_frame(standard, "KAZ", PERIOD, citizenships=1).filter(
        pl.col("SPEC_NEED") == "_T").drop("FREQ", "COUNTERPART_AREA", "SPEC_NEED",
                                          "UNIT_MEASURE", "CONF_STATUS")
    from standards.validation import validate_file

    report = validate_file(write_csv(frame))
    assert report.valid, report.as_dict()
    assert any("FREQ from TIME_PERIOD" in n for n in report.notes)
    rows, _ = load_harmonized(write_csv(frame))
    assert set(rows["FREQ"]) == {"Q"} and set(rows["SPEC_NEED"]) == {"_T"}
    counterpart = dict(rows.select("MEASURE", "COUNTERPART_AREA").unique().iter_rows())
    assert counterpart["STOCK"] == "_Z" and counterpart["INFLOW"] == "_U"
    assert counterpart["RET_VOL_ASST"] == "_U" and counterpart["ASY_APP_FIRST"] == "_Z"


# --- rounding ------------------------------------------------------------------------------------

def _rounded_table() -> pl.DataFrame:
    """Sex breakdowns with every figure rounded to 5: for AFG, 12 + 13 + 0 = 25 is written
    10 + 15 + 0 = 25; for SYR, 12 + 12 + 1 = 25 is written 10 + 10 + 0 against a total of 25,
    off by 5, within the tolerance (3 + 1) x 5 / 2 = 10 of a rounded file."""
    rows = []
    for citizenship, (f, m, u, t) in {"AFG": (10, 15, 0, 25), "SYR": (10, 10, 0, 25)}.items():
        for sex, value in (("F", f), ("M", m), ("_U", u), ("_T", t)):
            rows.append(("KAZ", "REF", "STOCK", citizenship, sex, "_T", str(value), "PER"))
    return pl.DataFrame(rows, schema=["REF_AREA", "POP_GROUP", "MEASURE", "CITIZENSHIP", "SEX",
                                      "AGE", "OBS_VALUE", "UNIT_MEASURE"], orient="row") \
        .with_columns(pl.lit(PERIOD).alias("TIME_PERIOD"))


def test_a_file_declared_rounded_adds_up_within_the_rounding_tolerance(validate_frame) -> None:
    table = _rounded_table()
    unrounded = validate_frame(table)
    assert [x.rule for x in unrounded.issues] == [Rule.ADDITIVITY]  # 10 + 10 + 0 != 25
    rounded = validate_frame(table, rounding=5)
    assert rounded.valid, rounded.as_dict()
    assert any("rounded to 5" in n for n in rounded.notes)


def test_a_file_declared_rounded_holds_multiples_of_the_base(validate_frame) -> None:
    table = corrupt(_rounded_table(), 0, "OBS_VALUE", "11")
    issues = issues_of(validate_frame(table, rounding=5), Rule.ROUNDING)
    assert [(x.row, x.value) for x in issues] == [(file_row(0), "11")]


# --- 1.0.0 files are accepted and mapped forward -------------------------------------------------

def version_1_table() -> pl.DataFrame:
    """A valid 1.0.0 table: status groups with their total, victims of trafficking as a
    population group, voluntary returns, a value missing under 1.0.0's M."""
    rows = []
    for group, measure, f, m in (("REF", "STOCK", 10, 12), ("ASY", "STOCK", 3, 5),
                                 ("_T", "STOCK", 13, 17), ("ASY", "INFLOW", 4, 6),
                                 ("_T", "INFLOW", 4, 6), ("VOT", "INFLOW", 2, 1),
                                 ("ASY_REJ", "RET_VOL", 2, 3), ("_T", "RET_VOL", 2, 3)):
        for sex, value in (("F", f), ("M", m), ("_U", 0), ("_T", f + m)):
            rows.append((group, measure, sex, str(value), "A"))
    rows.append(("STA", "NATZ", "_T", None, "M"))
    frame = pl.DataFrame(rows, schema=["POP_GROUP", "MEASURE", "SEX", "OBS_VALUE", "OBS_STATUS"],
                         orient="row")
    return frame.select(pl.lit("KAZ").alias("REF_AREA"), pl.lit(PERIOD).alias("TIME_PERIOD"),
                        "POP_GROUP", "MEASURE", pl.lit("AFG").alias("CITIZENSHIP"), "SEX",
                        pl.lit("_T").alias("AGE"), "OBS_VALUE", "OBS_STATUS")


def test_a_1_0_0_file_validates_and_lands_in_2_0_0_shape(standard, write_csv) -> None:
    from standards.validation import validate_file

    path = write_csv(version_1_table())
    report = validate_file(path, country=COUNTRY, period=PERIOD, standard_version="1.0.0")
    assert report.valid, report.as_dict()
    assert report.standard.endswith("2.0.0")
    assert any("POP_GROUP=VOT" in n and "SPEC_NEED=VOT" in n for n in report.notes)
    rows, _ = load_harmonized(path, standard_version="1.0.0")
    assert rows.columns[: len(standard.dimension_ids)] == list(standard.dimension_ids)
    vot = rows.filter(pl.col("SPEC_NEED") == "VOT")
    assert set(vot["POP_GROUP"]) == {"_T"} and set(vot["MEASURE"]) == {"INFLOW"}
    assert "VOT" not in set(rows["POP_GROUP"])
    assert set(rows.filter(pl.col("MEASURE").str.starts_with("RET"))["MEASURE"]) == {
        "RET_VOL_UNASST"}
    assert rows.filter(pl.col("OBS_VALUE").is_null())["OBS_STATUS"].to_list() == ["O"]
    assert set(rows["FREQ"]) == {"Q"} and set(rows["UNIT_MEASURE"]) == {"PER"}
    derived = derive_totals(rows, standard)
    # 2.0.0's RET_VOL = RET_VOL_ASST + RET_VOL_UNASST is not derived from one part: the absent
    # part is unknown, not zero.
    assert "RET_VOL" not in set(derived["MEASURE"])


def test_the_shipped_1_0_0_example_is_the_one_the_tests_describe() -> None:
    from pathlib import Path

    from standards.validation import validate_file

    path = Path(__file__).resolve().parents[1] / "examples" / "KAZ_2026-Q3_standard-1.0.0.csv"
    assert pl.read_csv(path, infer_schema=False).equals(
        version_1_table().with_columns(pl.all().cast(pl.String)))
    assert validate_file(path, standard_version="1.0.0").valid


def test_a_1_0_0_file_whose_needs_exceed_their_total_is_refused(write_csv) -> None:
    from standards.validation import validate_file

    table = version_1_table()
    i = row_index(table, POP_GROUP="VOT", MEASURE="INFLOW", SEX="F")
    report = validate_file(write_csv(corrupt(table, i, "OBS_VALUE", "9")),
                           standard_version="1.0.0")
    assert Rule.SUBSET in report.counts


def test_emergency_weeks_validate_as_their_own_frequency(standard, validate_frame) -> None:
    frame = strings(example_frame(standard, "KAZ", "2026-W48", citizenships=1))
    assert set(frame["FREQ"]) == {"W"}
    assert validate_frame(frame, country="KAZ", period="2026-W48").valid
    report = validate_frame(frame, country="KAZ", period=PERIOD)
    assert Rule.DECLARED_MATCH in report.counts


def test_national_bands_in_a_unhcr_file_are_summed_into_unhcr_bands(example,
                                                                    validate_frame) -> None:
    """Y18T24 + Y25T59 (a national split) become Y18T59: the file stays in UNHCR bands."""
    adults = example.filter(pl.col("AGE") == "Y18T59")
    young = adults.with_columns(pl.lit("Y18T24").alias("AGE"),
                                (pl.col("OBS_VALUE").cast(pl.Int64) // 3).cast(pl.Utf8))
    older = adults.with_columns(pl.lit("Y25T59").alias("AGE"), (
        pl.col("OBS_VALUE").cast(pl.Int64) - pl.col("OBS_VALUE").cast(pl.Int64) // 3)
        .cast(pl.Utf8))
    frame = pl.concat([example.filter(pl.col("AGE") != "Y18T59"), young, older])
    report = validate_frame(frame)
    assert report.valid, report.as_dict()
    assert any("'Y18T24' -> Y18T59" in n for n in report.notes)


# --- the loaded standard is cached between processes ----------------------------------------------

def test_the_standard_is_cached_by_a_digest_of_its_files(tmp_path, monkeypatch) -> None:
    import shutil

    from standards.loader import DATA_DIR, _fingerprint, load_standard

    monkeypatch.setenv("MMX_CACHE_DIR", str(tmp_path / "cache"))
    fresh = load_standard.__wrapped__()
    (cached_file,) = (tmp_path / "cache").glob("standard-*.pickle")
    again = load_standard.__wrapped__()
    assert again.version == fresh.version and again.dimension_ids == fresh.dimension_ids
    assert again.codelists["CL_AREA"].by_id["KGZ"].name == fresh.codelists["CL_AREA"].by_id[
        "KGZ"].name
    cached_file.write_bytes(b"not a pickle")  # a broken cache is skipped, then rewritten
    assert load_standard.__wrapped__().version == fresh.version
    copy = tmp_path / "data"
    shutil.copytree(DATA_DIR, copy)
    assert _fingerprint(copy) == _fingerprint(DATA_DIR)
    dsd = copy / "dsd.yaml"
    dsd.write_text(dsd.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert _fingerprint(copy) != _fingerprint(DATA_DIR)
