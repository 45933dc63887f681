"""Harmonization mappings: every kind maps what it should, and what it cannot map is flagged."""

from __future__ import annotations

import polars as pl

from standards.harmonize import derive_totals
from standards.mappings import load_mappings, nest_target
from standards.validation import Rule, validate_file
from tests.conftest import corrupt, row_index


def _validate(frame: pl.DataFrame, tmp_path, **kwargs):
    path = tmp_path / "upload.csv"
    frame.write_csv(path)
    return validate_file(path, country="KAZ", period="2026-Q3", **kwargs)


def test_country_names_and_spellings_map_to_iso_codes(example, tmp_path) -> None:
    afg = example["CITIZENSHIP"] == "AFG"
    for variant in ("Afghanistan", "Афганистан", "AF", "afganistan"):
        frame = example.with_columns(pl.when(afg).then(pl.lit(variant))
                                     .otherwise(pl.col("CITIZENSHIP")).alias("CITIZENSHIP"))
        report = _validate(frame, tmp_path)
        assert report.valid, (variant, report.as_dict()["errors"][:2])
        assert any(f"'{variant}' -> AFG (alias" in note for note in report.notes), report.notes


def test_kyrgistan_is_kgz_also_as_the_reporting_state(example, tmp_path) -> None:
    frame = example.with_columns(pl.col("CITIZENSHIP").replace({"AFG": "Kyrgistan"}))
    report = _validate(frame, tmp_path)
    assert report.valid
    assert any("'Kyrgistan' -> KGZ" in note for note in report.notes)


def test_national_sex_labels_map(example, tmp_path) -> None:
    frame = example.with_columns(pl.col("SEX").replace({"F": "Ж", "M": "male", "_T": "Total"}))
    assert _validate(frame, tmp_path).valid


# The columns of a 0.9.0 or 1.0.0 file, and status groups those versions had.
OLDER_COLUMNS = ("REF_AREA", "TIME_PERIOD", "POP_GROUP", "MEASURE", "CITIZENSHIP", "SEX", "AGE",
                 "OBS_VALUE", "OBS_STATUS")
OLDER_GROUPS = ("REF", "ASY", "ASY_REJ", "STA", "IDP", "RET_REF", "ETH_RET", "RET_MW", "MIG_LAB",
                "MIG_IRR", "OTH")


def _older_file(example: pl.DataFrame) -> pl.DataFrame:
    """The example's stocks in the shape of an older version: its seven dimensions, no specific
    needs, the status groups it had (without their total, which would miss the newer ones)."""
    return (example.filter((pl.col("SPEC_NEED") == "_T") & (pl.col("MEASURE") == "STOCK")
                           & pl.col("POP_GROUP").is_in(OLDER_GROUPS))
            .select(OLDER_COLUMNS))


def test_older_standard_version_codes_are_renamed_forward(example, tmp_path) -> None:
    frame = _older_file(example).with_columns(
        pl.col("POP_GROUP").replace({"ETH_RET": "ORALMAN"}))
    assert "ORALMAN" in frame["POP_GROUP"].to_list()
    assert not _validate(frame, tmp_path).valid  # not a 2.0.0 code...
    report = _validate(frame, tmp_path, standard_version="0.9.0")  # ...but a 0.9.0 one
    assert report.valid, report.as_dict()["errors"][:3]
    assert any("'ORALMAN' -> ETH_RET (version 0.9.0" in note for note in report.notes)


def test_nested_national_age_bands_are_summed_into_the_standard_band(example, tmp_path) -> None:
    """Y0T1 + Y2T4 replace Y0T4 in one breakdown: they are summed, and the totals still add up."""
    key = {"POP_GROUP": "REF", "SPEC_NEED": "_T", "MEASURE": "STOCK", "CITIZENSHIP": "AFG",
           "SEX": "F"}
    i = row_index(example, AGE="Y0T4", **key)
    value = int(example["OBS_VALUE"][i])
    split = example[i].with_columns(pl.lit("Y2T4").alias("AGE"),
                                    pl.lit(str(value - value // 3)).alias("OBS_VALUE"))
    frame = pl.concat([corrupt(corrupt(example, i, "AGE", "Y0T1"), i, "OBS_VALUE",
                               str(value // 3)), split])
    report = _validate(frame, tmp_path)
    assert report.valid, report.as_dict()["errors"][:3]
    assert any("'Y0T1' -> Y0T4 (nested band" in note for note in report.notes)


def test_a_band_that_straddles_every_standard_band_is_flagged(example, tmp_path) -> None:
    """15-24 crosses 18, so not even Y_LT18 or Y_GE18 holds it."""
    i = row_index(example, POP_GROUP="REF", SPEC_NEED="_T", MEASURE="STOCK", CITIZENSHIP="AFG",
                  SEX="F", AGE="Y12T17")
    report = _validate(corrupt(example, i, "AGE", "Y15T24"), tmp_path)
    assert Rule.CODE_LIST in report.counts
    assert [i.value for i in report.issues if i.rule == Rule.CODE_LIST] == ["Y15T24"]


def test_nest_targets_follow_the_band_bounds(standard) -> None:
    """The narrowest band that holds the national one, of any system, coarse bands too."""
    assert nest_target("Y0T1", standard) == "Y0T4"
    assert nest_target("Y18T24", standard) == "Y18T34"
    assert nest_target("Y25T59", standard) == "Y18T59"
    assert nest_target("Y_GE70", standard) == "Y_GE65"
    assert nest_target("Y10T14", standard) == "Y_LT18"
    assert nest_target("Y15T24", standard) is None


def test_a_national_band_joins_the_system_of_the_files_other_bands(standard) -> None:
    assert nest_target("Y18T24", standard, "unhcr") == "Y18T59"
    assert nest_target("Y18T24", standard, "eurostat") == "Y18T34"
    assert nest_target("Y12T13", standard, "unhcr") == "Y12T17"
    assert nest_target("Y0T13", standard, "eurostat") == "Y_LT14"
    assert nest_target("Y_GE15", standard) is None
    assert nest_target("adults", standard) is None


def test_unmappable_values_are_left_for_the_code_list_rule(example, tmp_path) -> None:
    i = row_index(example, POP_GROUP="REF", SPEC_NEED="_T", MEASURE="STOCK", CITIZENSHIP="AFG",
                  SEX="F", AGE="Y5T11")
    report = _validate(corrupt(example, i, "CITIZENSHIP", "Atlantis"), tmp_path)
    assert [(x.rule, x.value) for x in report.issues] == [(Rule.CODE_LIST, "Atlantis")]
    assert load_mappings().known_versions() == ("2.0.0", "1.0.0", "0.9.0")


def test_missing_sex_total_is_derived_when_parts_are_complete(example, standard) -> None:
    typed = example.with_columns(pl.col("OBS_VALUE").cast(pl.Int64))
    key = {"POP_GROUP": "REF", "SPEC_NEED": "_T", "MEASURE": "STOCK", "CITIZENSHIP": "AFG",
           "AGE": "Y0T4"}
    total = typed.filter(pl.all_horizontal(pl.col(k) == v for k, v in key.items())
                         & (pl.col("SEX") == "_T"))["OBS_VALUE"].item()
    without = typed.filter(~(pl.all_horizontal(pl.col(k) == v for k, v in key.items())
                             & (pl.col("SEX") == "_T")))
    derived = derive_totals(without, standard)
    row = derived.filter(pl.all_horizontal(pl.col(k) == v for k, v in key.items())
                         & (pl.col("SEX") == "_T"))
    assert row["OBS_VALUE"].to_list() == [total]
    assert row["DERIVED"].to_list() == [True]


def test_no_total_is_derived_from_incomplete_parts(example, standard) -> None:
    typed = example.with_columns(pl.col("OBS_VALUE").cast(pl.Int64))
    key = {"POP_GROUP": "REF", "MEASURE": "STOCK", "CITIZENSHIP": "AFG", "AGE": "Y0T4"}
    cell = pl.all_horizontal(pl.col(k) == v for k, v in key.items())
    only_f = typed.filter(~(cell & pl.col("SEX").is_in(["_T", "M"])))
    derived = derive_totals(only_f, standard)
    assert derived.filter(cell & (pl.col("SEX") == "_T")).is_empty()
