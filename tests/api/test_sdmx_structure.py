"""The SDMX REST structure API over real HTTP: the path forms clients send, formats by
``Accept`` and ``format=``, labels by ``Accept-Language``, HTTP caching, errors as the
specification gives them, and the real clients (sdmx1, pysdmx) reading what we serve.

Structures need no database content, so one app (on SQLite, migrated as ``mmx serve`` does)
serves the whole module."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import jsonschema
import pytest
import sdmx
from lxml import etree
from pysdmx.api.fmr import RegistryClient
from pysdmx.io import read_sdmx
from pysdmx.io.format import StructureFormat

from exchange.core.config import Settings
from standards.sdmx import load_catalogue
from tests.api.conftest import prepared_app
from tests.api.test_hardening import NoQueue, serve
from tests.conftest import SECRET
from tests.test_sdmx_structure_query import JSON_SCHEMA

XML = "application/vnd.sdmx.structure+xml;version=2.1"
JSON = "application/vnd.sdmx.structure+json;version=2.0.0"
Q = "DF_MIXED_MOVEMENTS_Q"
W = "DF_MIXED_MOVEMENTS_W"
FLOWS = set(load_catalogue().dataflows)  # the quarters, the emergency weeks, the indicators
NS = {"str": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/structure",
      "com": "http://www.sdmx.org/resources/sdmxml/schemas/v2_1/common"}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = Path(tmp_path_factory.mktemp("sdmx-structure"))
    config = Settings(data_dir=data / "var", jwt_secret=SECRET, processing="inline",
                      requests_per_minute=1_000_000)
    with serve(prepared_app(config, NoQueue())) as url:
        yield url


@pytest.fixture(scope="module")
def http(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=30) as client:
        yield client


def artefact_ids(response: httpx.Response, container: str) -> set[str]:
    root = etree.fromstring(response.content)
    return {e.get("id") for e in root.iterfind(f".//str:{container}/*", NS)}


@pytest.mark.parametrize("path", [
    "/sdmx/dataflow", "/sdmx/dataflow/", "/sdmx/dataflow/MMX", "/sdmx/dataflow/MMX/all/latest",
    "/sdmx/dataflow/all/all/all/", "/sdmx/dataflow/MMX/*/~", "/sdmx/dataflow/MMX/all/+",
    "/sdmx/structure/dataflow", "/sdmx/structure/dataflow/", "/sdmx/structure/dataflow/*/*/*",
    f"/sdmx/dataflow/MMX/{Q}%2C{W}", f"/sdmx/dataflow/MMX/{Q}+{W}/latest",
    f"/sdmx/structure/dataflow/MMX/{Q},{W}/~/"])
def test_every_path_form_lists_the_dataflows_anonymously(http: httpx.Client, path: str
                                                         ) -> None:
    response = http.get(path)  # no token: structures are public
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XML
    assert response.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    asked = {Q, W} if Q in path else FLOWS
    assert artefact_ids(response, "Dataflows") == asked


def test_several_code_lists_by_percent_encoded_comma(http: httpx.Client) -> None:
    response = http.get("/sdmx/codelist/MMX/CL_SEX%2CCL_AGE/latest")
    assert artefact_ids(response, "Codelists") == {"CL_SEX", "CL_AGE"}


def test_references_and_detail_reach_the_api(http: httpx.Client) -> None:
    full = http.get(f"/sdmx/dataflow/MMX/{Q}/latest", params={"references": "all"})
    assert artefact_ids(full, "DataStructures") == {"MIXED_MOVEMENTS"}
    assert artefact_ids(full, "Categorisations") == {f"CAT_{Q}"}
    assert "CL_SEX" in artefact_ids(full, "Codelists")
    stubs = http.get("/sdmx/structure/codelist", params={"detail": "allstubs"})
    root = etree.fromstring(stubs.content)
    assert root.findall(".//str:Code", NS) == []
    assert {c.get("isExternalReference") for c in root.iterfind(".//str:Codelist", NS)} == {
        "true"}
    partial = http.get(f"/sdmx/structure/dataflow/MMX/{Q}",
                       params={"references": "descendants", "detail": "referencepartial"})
    freq = etree.fromstring(partial.content).find(".//str:Codelist[@id='CL_FREQ']", NS)
    assert freq is not None and freq.get("isPartial") == "true"
    assert [c.get("id") for c in freq.iterfind("str:Code", NS)] == ["Q"]


def test_sdmx_json_by_accept_or_format_is_valid_against_the_official_schema(
        http: httpx.Client) -> None:
    by_accept = http.get(f"/sdmx/structure/dataflow/MMX/{Q}", params={"references": "all"},
                         headers={"Accept": JSON})
    by_format = http.get(f"/sdmx/dataflow/MMX/{Q}",
                         params={"references": "all", "format": "sdmx-json"})
    for response in (by_accept, by_format):
        assert response.status_code == 200
        assert response.headers["content-type"] == JSON
    document = by_accept.json()
    assert document["data"] == by_format.json()["data"]
    schema = json.loads(JSON_SCHEMA.read_text())
    validator = jsonschema.validators.validator_for(schema)
    assert list(validator(schema, format_checker=validator.FORMAT_CHECKER).iter_errors(
        document)) == []
    assert {d["id"] for d in document["data"]["dataflows"]} == {Q}


def test_labels_in_the_callers_language(http: httpx.Client) -> None:
    ru = http.get("/sdmx/codelist/MMX/CL_SEX", headers={"Accept-Language": "ru, en;q=0.5",
                                                        "Accept": JSON})
    assert ru.headers["content-language"] == "ru"
    codelist = ru.json()["data"]["codelists"][0]
    assert codelist["name"] == codelist["names"]["ru"] != codelist["names"]["en"]
    fr = http.get("/sdmx/codelist/MMX/CL_SEX", headers={"Accept-Language": "fr"})
    assert fr.headers["content-language"] == "fr"
    first = etree.fromstring(fr.content).find(".//str:Codelist/com:Name", NS)
    assert first is not None
    assert first.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr"
    assert http.get("/sdmx/codelist/MMX/CL_SEX",
                    headers={"Accept-Language": "de"}).headers["content-language"] == "en"


def test_structures_are_cacheable_and_revalidated_with_304(http: httpx.Client) -> None:
    first = http.get("/sdmx/dataflow/MMX/all/latest")
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=3600"
    assert first.headers["vary"] == "Accept, Accept-Language"
    again = http.get("/sdmx/dataflow/MMX/all/latest", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    others = [http.get("/sdmx/dataflow/MMX/all/latest", headers=h).headers["etag"]
              for h in ({"Accept": JSON}, {"Accept-Language": "ru"})]
    others.append(http.get("/sdmx/dataflow/MMX/all/latest",
                           params={"references": "all"}).headers["etag"])
    assert len({etag, *others}) == 4
    stale = http.get("/sdmx/dataflow/MMX/all/latest", headers={"If-None-Match": '"other"'})
    assert stale.status_code == 200


@pytest.mark.parametrize(("path", "headers", "status"), [
    ("/sdmx/codelist/MMX/CL_NOPE", {}, 404),
    ("/sdmx/dataflow/NOBODY", {}, 404),
    ("/sdmx/hierarchy/MMX", {}, 404),
    ("/sdmx/codelist/MMX/CL_SEX/9.9.9", {}, 404),
    ("/sdmx/codelist/MMX/CL_SEX?detail=bogus", {}, 400),
    ("/sdmx/codelist/MMX/CL_SEX?references=cousins", {}, 400),
    ("/sdmx/codelist/M!X", {}, 400),
    ("/sdmx/codelist/MMX/CL_SEX/latest/F/G", {}, 400),
    ("/sdmx/structure/nonsense/all/latest", {}, 404),  # SDMX 2.1 "structure": an agency
    ("/sdmx/codelist/MMX/CL_SEX", {"Accept": "image/png"}, 406),
    ("/sdmx/codelist/MMX/CL_SEX?format=xlsx", {}, 406),
    ("/sdmx/codelist/MMX/CL_SEX?asOf=2020-01-01T00:00:00Z", {}, 501),
    ("/sdmx/schema/provisionagreement/MMX/PA", {"Accept": JSON}, 404),
    ("/sdmx/schema/metadataflow/MMX/X", {"Accept": JSON}, 400)])
def test_errors_as_the_specification_says(http: httpx.Client, path: str,
                                          headers: dict[str, str], status: int) -> None:
    response = http.get(path, headers=headers)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == status


def test_sdmx1_lists_the_dataflows_and_reads_the_structure_with_its_code_lists(base: str
                                                                               ) -> None:
    sdmx.add_source({"id": "MMX", "url": f"{base}/sdmx", "name": "Mixed movements"},
                    override=True)
    client = sdmx.Client("MMX")
    flows = client.dataflow().dataflow
    assert set(flows) == FLOWS
    assert str(flows[Q].name) == "Mixed migratory movements, quarterly (released)"
    dsd = client.datastructure("MIXED_MOVEMENTS").structure["MIXED_MOVEMENTS"]
    dimensions = {d.id: d for d in dsd.dimensions}
    sex = dimensions["SEX"].local_representation.enumerated
    assert {c.id for c in sex} == {"F", "M", "_U", "_T"}
    assert "CENTRAL_ASIA" in dimensions["REF_AREA"].local_representation.enumerated
    # the flow with references=all carries its structure, so sdmx1 needs no second query
    flow = client.dataflow(Q).dataflow[Q]
    assert flow.structure.id == "MIXED_MOVEMENTS" and not flow.structure.is_external_reference
    # the categories, with the categorisations filing each flow under one
    topics = client.categoryscheme()
    assert {c.artefact.id: c.category.id for c in topics.categorisation.values()} == {
        Q: "POPULATIONS", W: "EMERGENCIES", "DF_INDICATORS": "INDICATORS"}


def test_pysdmx_registry_client_reads_the_dataflow_schema(base: str) -> None:
    registry = RegistryClient(api_endpoint=f"{base}/sdmx",
                              format=StructureFormat.SDMX_JSON_2_0_0)
    schema = registry.get_schema("dataflow", "MMX", Q, "~")
    dimensions = [c.id for c in schema.components.dimensions]
    assert (dimensions[0], dimensions[-1]) == ("FREQ", "TIME_PERIOD")
    # the quarterly flow's schema allows quarterly frequency only
    assert [c.id for c in schema.components["FREQ"].enumeration] == ["Q"]
    assert {c.id for c in schema.components["SEX"].enumeration} == {"F", "M", "_U", "_T"}
    assert {f.id for f in registry.get_dataflows()} == FLOWS
    assert {c.id for c in registry.get_codes("MMX", "CL_SEX")} == {"F", "M", "_U", "_T"}


def test_pysdmx_reads_our_sdmx_ml_with_xsd_validation(base: str) -> None:
    message = read_sdmx(f"{base}/sdmx/datastructure/MMX/MIXED_MOVEMENTS/latest?references=all",
                        validate=True)
    kinds = {type(s).__name__ for s in message.structures}
    assert {"Codelist", "ConceptScheme", "DataStructureDefinition", "Dataflow"} <= kinds
