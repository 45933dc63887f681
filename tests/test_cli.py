"""The ``mmx`` command line: exit codes, JSON and human output, browsing the standard, examples."""

from __future__ import annotations

import json

import polars as pl
import pytest

from mmx.main import cli as app
from standards.example import example_frame
from standards.validation import Rule, validate_file
from tests.conftest import COUNTRY, PERIOD, corrupt, file_row

WIDE = {"COLUMNS": "250", "NO_COLOR": "1", "TERM": "dumb"}  # rich wraps narrow tables


def run(cli, *args: str):
    return cli.invoke(app, [str(a) for a in args], env=WIDE)


def run_json(cli, *args: str) -> tuple[int, dict]:
    result = run(cli, "validate", *args, "--json")
    return result.exit_code, json.loads(result.stdout)


@pytest.fixture
def valid_file(example, write_csv):
    return write_csv(example, "valid.csv")


@pytest.fixture
def invalid_file(example, write_csv):
    """Two problems: an unknown citizenship code (row 12) and a negative count (row 22)."""
    frame = corrupt(corrupt(example, 10, "CITIZENSHIP", "AFX"), 20, "OBS_VALUE", "-4")
    return write_csv(frame, "invalid.csv")


# --- exit codes ----------------------------------------------------------------------------------

def test_valid_file_exits_0(cli, valid_file) -> None:
    result = run(cli, "validate", valid_file, "--country", COUNTRY, "--period", PERIOD)
    assert result.exit_code == 0, result.output
    assert "VALID" in result.stdout


def test_invalid_file_exits_1(cli, invalid_file) -> None:
    result = run(cli, "validate", invalid_file)
    assert result.exit_code == 1, result.output
    assert "INVALID" in result.stdout


def test_unusable_file_exits_2(cli, write_csv) -> None:
    result = run(cli, "validate", write_csv(b"\x00\x01\x02" * 100))
    assert result.exit_code == 2, result.output
    assert "UNUSABLE" in result.stdout


def test_missing_file_exits_2(cli, tmp_path) -> None:
    result = run(cli, "validate", tmp_path / "nowhere.csv")
    assert result.exit_code == 2, result.output
    assert "nowhere.csv" in result.stdout
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_declared_country_mismatch_exits_1(cli, valid_file) -> None:
    result = run(cli, "validate", valid_file, "--country", "KGZ")
    assert result.exit_code == 1
    assert "declared_match" in result.stdout


def test_unknown_format_option_is_a_usage_error(cli, valid_file) -> None:
    result = run(cli, "validate", valid_file, "--format", "pdf")
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_format_option_is_honoured(cli, valid_file) -> None:
    assert run(cli, "validate", valid_file, "--format", "xlsx").exit_code == 2
    assert run(cli, "validate", valid_file, "--format", "csv").exit_code == 0


# --- JSON output ---------------------------------------------------------------------------------

def test_json_output_of_a_valid_file(cli, valid_file, example) -> None:
    code, data = run_json(cli, valid_file)
    assert code == 0
    assert data["valid"] is True and data["usable"] is True
    assert data["rows"] == example.height
    assert data["error_count"] == 0
    assert data["errors"] == [] and data["summary"] == [] and data["notes"] == []


def test_json_output_carries_row_column_value_and_hint(cli, invalid_file) -> None:
    code, data = run_json(cli, invalid_file)
    assert code == 1
    assert {"valid", "usable", "rows", "error_count", "summary", "errors", "notes"} <= set(data)
    assert data["valid"] is False and data["usable"] is True
    assert data["error_count"] == 2
    assert {s["rule"]: s["count"] for s in data["summary"]} == {"code_list": 1, "non_negative": 1}
    by_rule = {e["rule"]: e for e in data["errors"]}
    assert by_rule["code_list"]["row"] == file_row(10)
    assert by_rule["code_list"]["column"] == "CITIZENSHIP"
    assert by_rule["code_list"]["value"] == "AFX"
    assert by_rule["code_list"]["hint"] == "Did you mean AFG?"
    assert (by_rule["non_negative"]["row"], by_rule["non_negative"]["column"],
            by_rule["non_negative"]["value"]) == (file_row(20), "OBS_VALUE", "-4")
    assert data["notes"]  # additivity could not run around the unknown code


def test_json_output_of_an_unusable_file(cli, write_csv) -> None:
    code, data = run_json(cli, write_csv(b""))
    assert code == 2
    assert data["usable"] is False and data["valid"] is False
    assert [e["rule"] for e in data["errors"]] == ["unusable_input"]
    assert data["errors"][0]["hint"]


def test_json_report_round_trips_through_report_from_dict(cli, invalid_file) -> None:
    from standards.validation import Report

    _, data = run_json(cli, invalid_file)
    data.pop("file")
    assert Report.from_dict(data).as_dict() == data


def test_json_keeps_non_ascii_readable(cli, write_csv) -> None:
    """Russian column names come back as text, not as \\u escapes."""
    result = run(cli, "validate", write_csv("Страна,Пол\nKAZ,F\n"), "--json")
    assert "СТРАНА" in result.stdout
    assert "\\u04" not in result.stdout


# --- human output --------------------------------------------------------------------------------

def test_human_output_names_the_rule_and_the_row(cli, invalid_file) -> None:
    result = run(cli, "validate", invalid_file)
    out = result.stdout
    assert "code_list" in out and "non_negative" in out
    assert str(file_row(10)) in out and str(file_row(20)) in out
    assert "Did you mean AFG?" in out


def test_human_output_shows_notes(cli, invalid_file) -> None:
    assert "Additivity was not checked" in run(cli, "validate", invalid_file).stdout


# --- capping -------------------------------------------------------------------------------------

def test_max_per_rule_caps_examples_but_not_counts(cli, example, write_csv) -> None:
    frame = example
    for index in range(0, 200, 20):  # ten negative counts
        frame = corrupt(frame, index, "OBS_VALUE", "-1")
    code, data = run_json(cli, write_csv(frame), "--max-per-rule", "3")
    assert code == 1
    assert {s["rule"]: s["count"] for s in data["summary"]} == {"non_negative": 10}
    kept = [e for e in data["errors"] if e["rule"] == "non_negative"]
    assert [e["row"] for e in kept] == [file_row(0), file_row(20), file_row(40)]
    assert data["truncated"] is True
    assert data["error_count"] == 10


def test_every_row_wrong_keeps_capped_examples_and_exact_counts(standard, write_csv) -> None:
    """5,000 rows, each with a bad country code, a negative count and a status M beside it."""
    frame = (example_frame(standard, COUNTRY, PERIOD, citizenships=4).head(5_000)
             .with_columns(pl.all().cast(pl.Utf8))
             .with_columns(pl.lit("KAS").alias("REF_AREA"), pl.lit("-1").alias("OBS_VALUE"),
                           pl.lit("M").alias("OBS_STATUS")))
    report = validate_file(write_csv(frame), max_per_rule=25)
    assert report.rows == 5_000
    assert report.counts == {Rule.CODE_LIST: 5_000, Rule.NON_NEGATIVE: 5_000,
                             Rule.MISSING_VALUE: 5_000}
    for rule in report.counts:
        kept = [i for i in report.issues if i.rule == rule]
        assert len(kept) == 25, rule
        assert kept[0].row == 2, rule
    assert report.truncated
    assert report.as_dict()["error_count"] == 15_000


# --- mmx standard show ---------------------------------------------------------------------------

def test_standard_overview_lists_the_dimensions(cli, standard) -> None:
    result = run(cli, "standard", "show")
    assert result.exit_code == 0, result.output
    for dim in (*standard.dimension_ids, "OBS_VALUE", "OBS_STATUS", "UNIT_MEASURE",
                "CONF_STATUS"):
        assert dim in result.stdout
    assert "MMX:MIXED_MOVEMENTS(2.0.0)" in result.stdout


def test_standard_show_code_list_in_russian(cli) -> None:
    result = run(cli, "standard", "show", "SEX", "--lang", "ru")
    assert result.exit_code == 0, result.output
    assert "Женский" in result.stdout and "Мужской" in result.stdout
    assert "Female" not in result.stdout


def test_standard_show_countries_with_natural_short_names(cli) -> None:
    """Country labels are short names people read, not ISO's inverted list forms."""
    ru = run(cli, "standard", "show", "REF_AREA", "--lang", "ru")
    assert ru.exit_code == 0, ru.output
    assert "Кыргызстан" in ru.stdout and "Киргизия" not in ru.stdout
    fr = run(cli, "standard", "show", "CITIZENSHIP", "--lang", "fr")
    assert fr.exit_code == 0, fr.output
    assert "Fédération de Russie" in fr.stdout and "Apatride" in fr.stdout
    assert ", état" not in fr.stdout and ", République" not in fr.stdout
    en = run(cli, "standard", "show", "CL_AREA")
    assert "Iran, Islamic Republic of" not in en.stdout and "Republic of Korea" in en.stdout


def test_standard_show_code_list_by_its_id(cli) -> None:
    result = run(cli, "standard", "show", "CL_POP_GROUP")
    assert result.exit_code == 0, result.output
    assert "Refugees" in result.stdout and "family=status" in result.stdout


def test_standard_show_regions(cli) -> None:
    result = run(cli, "standard", "show", "REGIONS")
    assert result.exit_code == 0, result.output
    assert "CENTRAL_ASIA" in result.stdout
    assert "KAZ KGZ TJK TKM UZB" in result.stdout


def test_standard_show_unknown_code_list_exits_2(cli) -> None:
    result = run(cli, "standard", "show", "CL_NOPE")
    assert result.exit_code == 2
    assert "CL_NOPE" in result.stderr


# --- mmx example ---------------------------------------------------------------------------------

def test_example_file_validates(cli, tmp_path) -> None:
    path = tmp_path / "f.csv"
    made = run(cli, "example", "-o", path)
    assert made.exit_code == 0, made.output
    checked = run(cli, "validate", path, "--country", "KAZ", "--period", "2026-Q3")
    assert checked.exit_code == 0, checked.output


def test_example_sdmx_csv_validates(cli, tmp_path) -> None:
    path = tmp_path / "f.csv"
    made = run(cli, "example", "--format", "sdmx-csv", "-o", path)
    assert made.exit_code == 0, made.output
    assert path.read_text(encoding="utf-8").startswith("DATAFLOW,")
    code, data = run_json(cli, path, "--country", "KAZ", "--period", "2026-Q3")
    assert code == 0, data
    assert data["format"] == "sdmx-csv"


def test_example_for_another_state_and_quarter_validates(cli, tmp_path) -> None:
    path = tmp_path / "uzb.csv"
    assert run(cli, "example", "--country", "uzb", "--period", "2025-Q4", "-o", path,
               "--citizenships", "2").exit_code == 0
    frame = pl.read_csv(path, infer_schema=False)
    assert set(frame["REF_AREA"]) == {"UZB"} and set(frame["TIME_PERIOD"]) == {"2025-Q4"}
    assert run(cli, "validate", path, "--country", "UZB", "--period", "2025-Q4").exit_code == 0


def test_example_of_one_measure_is_small_and_validates(cli, tmp_path) -> None:
    path = tmp_path / "natz.csv"
    assert run(cli, "example", "--measure", "natz", "-o", path).exit_code == 0
    frame = pl.read_csv(path, infer_schema=False)
    assert set(frame["MEASURE"]) == {"NATZ"} and 0 < frame.height < 2000
    assert run(cli, "validate", path, "--country", "KAZ", "--period", "2026-Q3").exit_code == 0


def test_example_of_an_unknown_measure_exits_2(cli, tmp_path) -> None:
    result = run(cli, "example", "--measure", "NOPE", "-o", tmp_path / "f.csv")
    assert result.exit_code == 2 and "NOPE" in result.stderr


def test_example_covers_every_dimension_of_a_quarterly_table(cli, standard, tmp_path) -> None:
    """Realistic in shape: status groups and specific needs x measures x citizenships x sex x
    age (in UNHCR's bands by default)."""
    path = tmp_path / "f.csv"
    run(cli, "example", "-o", path)
    frame = pl.read_csv(path, infer_schema=False)
    assert tuple(frame.columns) == standard.upload_columns
    assert set(frame["SEX"]) == set(standard.codelists["CL_SEX"].ids)
    assert set(frame["AGE"]) == {"Y0T4", "Y5T11", "Y12T17", "Y18T59", "Y_GE60", "_U", "_T"}
    assert {"_T", "REF"} <= set(frame["POP_GROUP"])
    assert {"_T", "VOT"} <= set(frame["SPEC_NEED"])
    assert frame["CITIZENSHIP"].n_unique() > 3


def test_example_to_stdout_is_the_same_file(cli, tmp_path) -> None:
    path = tmp_path / "f.csv"
    run(cli, "example", "--seed", "7", "-o", path)
    printed = run(cli, "example", "--seed", "7")
    assert printed.exit_code == 0
    assert printed.stdout == path.read_text(encoding="utf-8")


def test_example_for_an_unknown_country_exits_2(cli) -> None:
    result = run(cli, "example", "--country", "XXX")
    assert result.exit_code == 2
    assert "XXX" in result.stderr


def test_example_with_a_bad_period_exits_2(cli) -> None:
    assert run(cli, "example", "--period", "2026Q3").exit_code == 2
