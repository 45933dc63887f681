"""The standard as data: the DSD, its code lists and the regions, as the loader returns them."""

from __future__ import annotations

from pathlib import Path

import pycountry
import pytest
import yaml

from standards import Standard
from standards.loader import DATA_DIR
from tests.conftest import require

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
ISO_ALPHA3 = frozenset(c.alpha_3 for c in pycountry.countries)
STATUS_GROUPS = {"REF", "ASY", "OIP", "ASY_REJ", "STA", "IDP", "RET_REF", "RET_IDP", "ETH_RET",
                 "RET_MW", "MIG_LAB", "MIG_IRR", "OTH"}
SPECIFIC_NEEDS = {"VOT", "UASC", "UAC", "SC", "WGR", "SGBV", "TORT", "SGBV_TORT", "SMUG"}
CENTRAL_ASIA = {"KAZ", "KGZ", "TJK", "TKM", "UZB"}


def _file_based_codelists() -> list[str]:
    """Code lists kept as files in standards/data (the ISO lists are generated, not typed)."""
    dsd = yaml.safe_load((DATA_DIR / "dsd.yaml").read_text(encoding="utf-8"))
    files = [how["file"] for how in dsd["codelists"].values() if "file" in how]
    files += [how["extra"] for how in dsd["codelists"].values() if "extra" in how]
    return sorted(files)


def _file_based_codes() -> list[tuple[str, dict]]:
    out = []
    for name in _file_based_codelists():
        raw = yaml.safe_load((DATA_DIR / name).read_text(encoding="utf-8"))
        out += [(f"{raw['id']}:{code['id']}", code) for code in raw["codes"]]
    return out


# --- the DSD -------------------------------------------------------------------------------------

def test_dsd_is_mixed_movements_version_2_0_0(standard: Standard) -> None:
    assert (standard.agency, standard.id, standard.version) == ("MMX", "MIXED_MOVEMENTS", "2.0.0")
    assert standard.urn == "MMX:MIXED_MOVEMENTS(2.0.0)"


def test_dsd_has_the_ten_dimensions_in_order(standard: Standard) -> None:
    """FREQ first and TIME_PERIOD last, as SDMX DSDs have them."""
    assert standard.dimension_ids == (
        "FREQ", "REF_AREA", "COUNTERPART_AREA", "POP_GROUP", "SPEC_NEED", "MEASURE",
        "CITIZENSHIP", "SEX", "AGE", "TIME_PERIOD",
    )
    assert [d.position for d in standard.dimensions] == list(range(10))


def test_measure_is_obs_value_and_the_attributes_are_status_unit_and_confidentiality(
        standard: Standard) -> None:
    assert standard.measure == "OBS_VALUE"
    assert [a.id for a in standard.upload_attributes] == ["OBS_STATUS", "UNIT_MEASURE",
                                                          "CONF_STATUS"]
    assert not any(a.required for a in standard.upload_attributes)
    assert standard.status_attribute is standard.attribute["OBS_STATUS"]
    assert standard.attribute["OBS_STATUS"].missing_codes == ("O", "L", "M")
    assert set(standard.attribute["OBS_STATUS"].codelist.ids) == {"A", "E", "P", "B", "O", "L",
                                                                   "M"}


def test_conf_status_is_set_by_the_exchange_except_the_senders_own_flags(
        standard: Standard) -> None:
    """Submitters may flag a cell C or N; the other codes are set by disclosure control on
    published data."""
    conf = standard.attribute["CONF_STATUS"]
    assert conf.upload_codes == ("C", "N")
    assert set(conf.codelist.ids) - set(conf.upload_codes) == {"F", "A", "O", "G", "S"}


def test_upload_columns_are_dimensions_measure_then_attributes(standard: Standard) -> None:
    assert standard.upload_columns == (*standard.dimension_ids, "OBS_VALUE", "OBS_STATUS",
                                       "UNIT_MEASURE", "CONF_STATUS")


def test_time_period_is_a_quarter_or_week_pattern_without_code_list(standard: Standard) -> None:
    import re

    period = standard.dimension["TIME_PERIOD"]
    assert period.codelist is None
    assert re.fullmatch(period.pattern, "2026-Q3")
    assert re.fullmatch(period.pattern, "2026-W48")  # the emergency series
    for wrong in ("2026Q3", "2026-Q5", "2026", "2026-07", "26-Q3", "2026-W54", "2026-W4"):
        assert not re.fullmatch(period.pattern, wrong), wrong


def test_known_versions_are_the_current_one_and_those_the_mappings_lift() -> None:
    from standards.mappings import known_versions

    assert known_versions() == ("2.0.0", "1.0.0", "0.9.0")
    assert "9.9.9" not in known_versions()


# --- countries -----------------------------------------------------------------------------------

def test_citizenship_is_every_iso_alpha3_plus_stateless_and_unknown(standard: Standard) -> None:
    ids = standard.codelists["CL_CITIZENSHIP"].ids
    assert len(ids) == len(set(ids)), "duplicate codes"
    assert set(ids) == ISO_ALPHA3 | {"STLS", "UNK"}


def test_reporting_states_are_iso_alpha3_only(standard: Standard) -> None:
    """STLS and UNK describe persons, never a reporting state."""
    area = standard.codelists["CL_AREA"]
    assert set(area.ids) == ISO_ALPHA3
    assert "STLS" not in area
    assert "UNK" not in area


def test_countries_carry_english_and_russian_names(standard: Standard) -> None:
    kaz = standard.codelists["CL_AREA"].by_id["KAZ"]
    assert kaz.label("en") == "Kazakhstan"
    assert kaz.label("ru") == "Казахстан"


# --- population groups ---------------------------------------------------------------------------

def test_pop_group_has_thirteen_additive_status_groups(standard: Standard) -> None:
    pop = standard.codelists["CL_POP_GROUP"]
    status = {c.id for c in pop.codes if c.properties.get("family") == "status"}
    assert status == STATUS_GROUPS
    assert standard.dimension["POP_GROUP"].additivity.total == "_T"
    assert set(standard.dimension["POP_GROUP"].additivity.parts) == STATUS_GROUPS


def test_specific_needs_are_subsets_of_all_persons_outside_every_sum(standard: Standard) -> None:
    """SPEC_NEED groups cut across the status groups: each is a subset of _T, never summed into
    it (one person may have several needs); only UASC is the sum of its two kinds."""
    spec = standard.dimension["SPEC_NEED"]
    assert spec.subsets_of == "_T"
    assert spec.additivity is None
    assert set(spec.codelist.ids) == SPECIFIC_NEEDS | {"_T"}
    assert not SPECIFIC_NEEDS & set(standard.codelists["CL_POP_GROUP"].ids)
    for breakdown in standard.additive_breakdowns:
        if breakdown.dimension == "SPEC_NEED":
            assert (breakdown.total, breakdown.parts) == ("UASC", ("UAC", "SC"))
        else:
            assert not SPECIFIC_NEEDS & set(breakdown.parts), breakdown.dimension


def test_pop_group_total_is_its_own_family(standard: Standard) -> None:
    pop = standard.codelists["CL_POP_GROUP"]
    assert pop.by_id["_T"].properties.get("family") == "total"
    assert set(pop.ids) == STATUS_GROUPS | {"_T"}


def test_sex_and_age_breakdowns_add_up_to_their_totals(standard: Standard) -> None:
    """Sex adds up in every file; age within the band system the file uses (here UNHCR's)."""
    from standards.bands import breakdowns_for

    sex = standard.dimension["SEX"].additivity
    assert (sex.total, set(sex.parts)) == ("_T", {"F", "M", "_U"})
    unhcr = {"Y0T4", "Y5T11", "Y12T17", "Y18T59", "Y_GE60"}
    breakdowns, mixed = breakdowns_for(standard, {"AGE": unhcr | {"_U", "_T"}})
    assert not mixed
    age = {(b.total, frozenset(b.parts)) for b in breakdowns if b.dimension == "AGE"}
    assert ("_T", frozenset(unhcr | {"_U"})) in age
    assert {b.dimension for b in standard.additive_breakdowns} == {
        "COUNTERPART_AREA", "POP_GROUP", "SPEC_NEED", "MEASURE", "SEX"}


def test_additivity_tolerance_is_zero(standard: Standard) -> None:
    assert standard.additivity_tolerance == 0


# --- labels, definitions and sources -------------------------------------------------------------

@pytest.mark.parametrize(("code_id", "code"), _file_based_codes(), ids=lambda v: v
                         if isinstance(v, str) else "")
def test_every_code_has_labels_definition_and_source(code_id: str, code: dict) -> None:
    assert code["name"].get("en"), f"{code_id}: no English label"
    assert code["name"].get("ru"), f"{code_id}: no Russian label"
    assert (code.get("description") or {}).get("en"), f"{code_id}: no definition"
    assert code.get("source"), f"{code_id}: no source reference"


def _cited_sources() -> list[tuple[str, list[dict]]]:
    """Every code of the file-based code lists, every region, every indicator and every part
    of the Regional Action Plan they serve, with its source references."""
    dsd = yaml.safe_load((DATA_DIR / "dsd.yaml").read_text(encoding="utf-8"))
    regions = yaml.safe_load((DATA_DIR / dsd["regions"]).read_text(encoding="utf-8"))["regions"]
    indicators = yaml.safe_load((DATA_DIR / "indicators.yaml").read_text(encoding="utf-8"))
    plan = indicators["action_plan"]
    return ([(code_id, code.get("source") or []) for code_id, code in _file_based_codes()]
            + [(f"region:{r['id']}", r.get("source") or []) for r in regions]
            + [(f"indicator:{i['id']}", i.get("source") or [])
               for i in indicators["indicators"]]
            + [(f"action plan part:{p['id']}", p.get("source") or []) for p in plan["parts"]]
            + [("action plan", plan.get("source") or [])])


def test_every_source_quote_is_on_the_line_it_cites() -> None:
    """A citation is checkable: the quote is an exact substring of the cited seed line. This
    holds for the codes of the code lists and for the regions alike."""
    if not SEEDS.is_dir():
        require(f"seed documents not found at {SEEDS} (outside the project checkout)")
    lines: dict[str, list[str]] = {}
    wrong = []
    for owner, sources in _cited_sources():
        quoted = [s for s in sources if s.get("quote")]
        if not quoted:
            wrong.append(f"{owner}: no source with a quote")
        for src in quoted:
            if src["file"] not in lines:
                path = SEEDS / src["file"]
                lines[src["file"]] = (path.read_text(encoding="utf-8").splitlines()
                                      if path.is_file() else [])
            text = lines[src["file"]]
            line = text[src["line"] - 1] if 0 < src["line"] <= len(text) else ""
            if src["quote"] not in line:
                wrong.append(f"{owner}: {src['file']}:{src['line']} does not contain "
                             f"{src['quote']!r}")
    assert not wrong, "\n".join(wrong)


def test_every_indicator_has_labels_a_definition_a_part_and_a_unit() -> None:
    """Labels in the region's languages (en, ru, fr), a definition, one of the four parts of
    the Regional Action Plan (001 lines 718-722) and a unit of the indicator units."""
    from standards.indicators import load_indicators

    declared = load_indicators()
    assert [p.id for p in declared.parts] == ["I", "II", "III", "IV"]
    assert declared.indicators
    for indicator in declared.indicators:
        assert set(indicator.name) == {"en", "ru", "fr"}, indicator.id
        assert indicator.description.get("en"), indicator.id
        assert indicator.part in {"I", "II", "III", "IV"}, indicator.id
        assert indicator.unit in {u.id for u in declared.units}, indicator.id
        assert indicator.source, indicator.id


def test_typed_codes_keep_their_sources(standard: Standard) -> None:
    ref = standard.codelists["CL_POP_GROUP"].by_id["REF"]
    assert ref.source and all(s.file.endswith(".txt") and s.line > 0 for s in ref.source)


# --- regions -------------------------------------------------------------------------------------

def test_region_members_are_iso_alpha3_codes(standard: Standard) -> None:
    for region in standard.regions.values():
        assert region.members, region.id
        assert set(region.members) <= ISO_ALPHA3, region.id


def test_sub_region_members_are_listed_in_the_parent(standard: Standard) -> None:
    parents = [r for r in standard.regions.values() if r.subregions]
    assert parents, "the standard has no sub-regions at all"
    for region in parents:
        for sub in region.subregions:
            assert set(standard.regions[sub].members) <= set(region.members), (region.id, sub)


def test_central_asia_is_the_five_states(standard: Standard) -> None:
    assert set(standard.regions["CENTRAL_ASIA"].members) == CENTRAL_ASIA


def test_almaty_process_is_the_four_states_that_adopted_the_framework(standard: Standard
                                                                     ) -> None:
    # 001 lines 1-7: adopted by the National Coordinators of KAZ, KGZ, TJK and TKM.
    assert set(standard.regions["ALMATY_PROCESS"].members) == CENTRAL_ASIA - {"UZB"}
    assert "ALMATY_PROCESS" in standard.regions["CENTRAL_ASIA"].subregions


def test_wider_region_is_the_states_that_participated(standard: Standard) -> None:
    # 000 footnote 9 (line 321) and the attendance list (lines 86-92): neither China (invited,
    # 002 line 90) nor Uzbekistan took part.
    wider = standard.region_members("WIDER_CENTRAL_ASIA")
    assert wider == {"AFG", "AZE", "IRN", "KAZ", "KGZ", "RUS", "TJK", "TKM", "TUR"}
    assert "ALMATY_PROCESS" in standard.regions["WIDER_CENTRAL_ASIA"].subregions


def test_conference_regions_exist_with_their_sizes(standard: Standard) -> None:
    assert len(standard.region_members("ECOWAS")) == 15
    assert len(standard.region_members("EAST_HORN_GREAT_LAKES_SOUTHERN_AFRICA")) == 13
    assert {"GULF_OF_ADEN", "BALI_PROCESS"} <= set(standard.regions)


def test_region_members_include_sub_regions(standard: Standard) -> None:
    for region in standard.regions.values():
        members = standard.region_members(region.id)
        assert set(region.members) <= members
        for sub in region.subregions:
            assert standard.region_members(sub) <= members, (region.id, sub)


def test_a_state_belongs_to_every_region_containing_it(standard: Standard) -> None:
    assert set(standard.regions_of("KAZ")) == {"CENTRAL_ASIA", "ALMATY_PROCESS",
                                               "WIDER_CENTRAL_ASIA"}
    assert set(standard.regions_of("UZB")) == {"CENTRAL_ASIA"}
    assert set(standard.regions_of("AFG")) >= {"WIDER_CENTRAL_ASIA", "BALI_PROCESS"}
    assert "CENTRAL_ASIA" not in standard.regions_of("AFG")
    assert standard.regions_of("STLS") == ()


def test_regions_have_english_and_russian_names(standard: Standard) -> None:
    for region in standard.regions.values():
        assert region.name.get("en") and region.name.get("ru"), region.id
