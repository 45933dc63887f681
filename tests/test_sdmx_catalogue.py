"""The published SDMX catalogue is generated from the standard, and content negotiation picks
the format and language clients ask for."""

from __future__ import annotations

import pytest

from exchange.core.problems import Problem
from exchange.sdmx.negotiation import Kind, language, negotiate
from standards import load_standard
from standards.sdmx import load_catalogue


def test_the_quarterly_and_emergency_flows_publish_the_standards_dsd() -> None:
    catalogue = load_catalogue()
    standard = load_standard()
    quarterly = catalogue.dataflows["DF_MIXED_MOVEMENTS_Q"]
    emergency = catalogue.dataflows["DF_MIXED_MOVEMENTS_W"]
    assert quarterly.structure is emergency.structure
    assert quarterly.structure.id == standard.id
    assert [d.id for d in quarterly.structure.dimensions] == list(standard.dimension_ids)
    assert quarterly.structure.time_dimension.id == "TIME_PERIOD"
    assert quarterly.constraint == {"FREQ": frozenset({"Q"})}
    assert emergency.constraint == {"FREQ": frozenset({"W"})}
    assert quarterly.urn == f"MMX:DF_MIXED_MOVEMENTS_Q({standard.version})"


def test_published_ref_area_holds_states_and_regions_with_their_members() -> None:
    catalogue = load_catalogue()
    standard = load_standard()
    ref_area = catalogue.structures["MIXED_MOVEMENTS"].dimensions[1]
    assert ref_area.id == "REF_AREA"
    codes = ref_area.codelist.by_id
    assert "KAZ" in codes and "CENTRAL_ASIA" in codes
    assert codes["CENTRAL_ASIA"].properties["members"] == sorted(
        standard.region_members("CENTRAL_ASIA"))
    # Uploads still take states only.
    assert "CENTRAL_ASIA" not in standard.codelists["CL_AREA"]


def test_every_component_is_a_concept_and_every_code_list_is_listed_once() -> None:
    catalogue = load_catalogue()
    for structure in catalogue.structures.values():
        assert {c.id for c in structure.components} <= set(catalogue.concept_scheme.concepts)
        for codelist in structure.codelists:  # one id, one list: never two lists under an id
            assert catalogue.codelists[codelist.id] == codelist, codelist.id
    assert "CL_CONF_STATUS" in catalogue.codelists
    assert len(catalogue.codelists) == len({cl.id for s in catalogue.structures.values()
                                            for cl in s.codelists})


def test_indicators_are_a_flow_of_their_own_with_a_dsd_declared_as_data() -> None:
    """DF_INDICATORS publishes MMX_INDICATORS: INDICATOR codes generated from the
    definitions (with unit and Regional Action Plan part), breakdowns on the standard's code
    lists plus _Z, a decimal OBS_VALUE and the indicator units."""
    from standards.indicators import load_indicators

    catalogue = load_catalogue()
    flow = catalogue.dataflows["DF_INDICATORS"]
    structure = flow.structure
    assert (structure.id, flow.category) == ("MMX_INDICATORS", "INDICATORS")
    assert "INDICATORS" in {c.id for c in catalogue.category_scheme.categories}
    assert [d.id for d in structure.dimensions] == [
        "FREQ", "REF_AREA", "INDICATOR", "POP_GROUP", "SPEC_NEED", "MEASURE", "CITIZENSHIP",
        "TIME_PERIOD"]
    dims = {d.id: d for d in structure.dimensions}
    assert dims["REF_AREA"].codelist is catalogue.structures["MIXED_MOVEMENTS"].dimensions[
        1].codelist
    indicators = dims["INDICATOR"].codelist
    assert indicators.ids == tuple(i.id for i in load_indicators().indicators)
    assert indicators.by_id["ASY_RECOGNITION"].properties == {"unit": "PC", "part": "II"}
    citizenship = dims["CITIZENSHIP"].codelist
    assert citizenship.id == "CL_IND_CITIZENSHIP" and {"_Z", "AFG", "STLS"} <= set(
        citizenship.ids)
    assert structure.measure.text_type == "Decimal"
    attributes = {a.id: a.codelist for a in structure.attributes}
    assert set(attributes["UNIT_MEASURE"].ids) == {"PER", "PC"}
    assert attributes["CONF_STATUS"].id == "CL_CONF_STATUS"


@pytest.mark.parametrize(("accept", "key"), [
    (None, "structurespecificdata"),
    ("*/*", "structurespecificdata"),
    ("application/xml", "structurespecificdata"),
    ("application/vnd.sdmx.genericdata+xml;version=2.1", "genericdata"),
    ("application/vnd.sdmx.data+csv;version=2.0.0", "sdmx-csv"),
    ("application/vnd.sdmx.data+json;version=2.0.0, */*;q=0.1", "sdmx-json"),
    ("text/csv", "csv"),
    ("application/json", "json"),
    ("text/html;q=0.9, text/csv;q=0.8", "csv"),
])
def test_data_format_follows_accept(accept: str | None, key: str) -> None:
    assert negotiate(Kind.DATA, accept=accept).key == key


def test_format_parameter_overrides_accept() -> None:
    assert negotiate(Kind.DATA, accept="application/xml", format_param="csv").key == "csv"
    assert negotiate(Kind.STRUCTURE, accept=None, format_param="sdmx-json").key == "sdmx-json"


@pytest.mark.parametrize(("accept", "fmt"), [("image/png", None), (None, "xlsx"),
                                             ("application/pdf, text/html", None)])
def test_a_format_we_do_not_produce_is_406_naming_those_we_do(accept: str | None,
                                                               fmt: str | None) -> None:
    with pytest.raises(Problem) as caught:
        negotiate(Kind.DATA, accept=accept, format_param=fmt)
    assert caught.value.status == 406
    assert "text/csv; charset=utf-8" in caught.value.extra["produced"]


def test_structure_defaults_to_sdmx_ml_and_json_is_sdmx_json() -> None:
    assert negotiate(Kind.STRUCTURE, accept="*/*").content_type.startswith(
        "application/vnd.sdmx.structure+xml")
    assert negotiate(Kind.STRUCTURE, accept="application/vnd.sdmx.structure+json;"
                     "version=2.0.0").key == "sdmx-json"


@pytest.mark.parametrize(("header", "lang"), [
    (None, "en"), ("ru", "ru"), ("ru-RU, en;q=0.5", "ru"), ("de, fr;q=0.7, en;q=0.5", "fr"),
    ("de", "en"), ("en-GB;q=0.2, fr;q=0.9", "fr"), ("*", "en")])
def test_labels_in_the_language_asked_for(header: str | None, lang: str) -> None:
    assert language(header) == lang


def test_sdmx_ml_header_has_its_fields_in_schema_order() -> None:
    from datetime import UTC, datetime

    from standards.sdmx.ml import header

    out = header("IREF1", sender="MMX", now=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
                 structure="<mes:Structure/>")
    positions = [out.index(tag) for tag in ("<mes:ID>", "<mes:Test>", "<mes:Prepared>",
                                            "<mes:Sender", "<mes:Structure")]
    assert positions == sorted(positions)
    assert "2026-01-02T03:04:05Z" in out


@pytest.mark.parametrize(("accept", "key"), [
    ("application/vnd.sdmx.data+csv;version=2.0.0", "sdmx-csv"),
    ("application/vnd.sdmx.data+csv;version=2", "sdmx-csv"),
    ("application/vnd.sdmx.data+csv;version=2+.0.0", "sdmx-csv"),
    ("application/vnd.sdmx.data+csv;version=1.0.0, application/vnd.sdmx.data+json", "sdmx-json"),
    ("application/vnd.sdmx.genericdata+xml;version=2.1", "genericdata"),
])
def test_an_sdmx_format_version_we_write_is_honoured(accept: str, key: str) -> None:
    assert negotiate(Kind.DATA, accept=accept).key == key


@pytest.mark.parametrize("accept", ["application/vnd.sdmx.data+csv;version=1.0.0",
                                    "application/vnd.sdmx.data+json;version=1.0.0",
                                    "application/vnd.sdmx.genericdata+xml;version=3.0.0"])
def test_an_sdmx_format_version_we_do_not_write_is_406(accept: str) -> None:
    with pytest.raises(Problem) as caught:
        negotiate(Kind.DATA, accept=accept)
    assert caught.value.status == 406
