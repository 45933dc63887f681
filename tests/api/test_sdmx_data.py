"""SDMX REST data queries over real releases (uploads, sign-off, release), on SQLite and
PostgreSQL: keys, periods, detail, first/last N, dimensionAtObservation, availability, every
format, languages, ETag/304, embargo and who sees harmonized data, errors."""

from __future__ import annotations

import contextlib
import io
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import jsonschema
import polars as pl
import pytest
import sdmx
import sqlalchemy as sa
from fastapi.testclient import TestClient
from pysdmx.io import read_sdmx
from pytest_postgresql.janitor import DatabaseJanitor

from exchange.core.config import Settings
from exchange.core.db import get_engine
from exchange.sdmx import cache, data_service
from standards.sdmx.catalogue import load_catalogue
from standards.sdmx.data_query import parse_data_query
from tests.api.conftest import Account, make_account, prepared_app, release_table
from tests.api.test_hardening import serve as serve_http
from tests.conftest import SECRET

STATES = ("KAZ", "KGZ", "TJK")
PERIODS = ("2026-Q2", "2026-Q3")
FLOW = "/sdmx/data/DF_MIXED_MOVEMENTS_Q"
SCHEMA = Path("/work/shared/reference/sdmx/sdmx-json-data-schema.json")
# FREQ.REF_AREA.COUNTERPART_AREA.POP_GROUP.SPEC_NEED.MEASURE.CITIZENSHIP.SEX.AGE
KAZ_TOTALS = "Q.KAZ..._T.NATZ.._T._T"


@dataclass
class Published:
    """An exchange with released data, built once per database for this module (a release
    takes seconds of disclosure control)."""

    client: TestClient
    settings: Settings
    admin: Account
    analyst: Account
    releases: dict[str, dict]

    def account(self, role: str, ref_area: str | None = None) -> Account:
        return make_account(self.settings, self.client, role, ref_area)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def published(request, tmp_path_factory) -> Iterator[Published]:
    """KAZ, KGZ and TJK signed off for 2026-Q2 and 2026-Q3, KAZ publishing national tables;
    one release of each quarter."""
    tmp = tmp_path_factory.mktemp(f"sdmx-{request.param}")
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp / 'mmx.sqlite3'}"
        else:
            server = request.getfixturevalue("postgres_server")
            name = f"t_{secrets.token_hex(6)}"
            stack.enter_context(DatabaseJanitor(
                user=server.user, password=server.password, host=server.host,
                port=server.port, dbname=name, template_dbname=server.template_dbname,
                maintenance_dbname=server.maintenance_dbname))
            url = sa.URL.create("postgresql+psycopg", username=server.user,
                                password=server.password, host=server.host,
                                port=int(server.port), database=name
                                ).render_as_string(hide_password=False)
        stack.callback(lambda: get_engine(url).dispose())
        settings = Settings(data_dir=tmp / "var", database_url=url, jwt_secret=SECRET,
                            processing="inline")
        client = stack.enter_context(TestClient(prepared_app(settings)))
        yield _publish(client, settings)


def _publish(client: TestClient, settings: Settings) -> Published:
    coordinators = {}
    for n, state in enumerate(STATES):
        agency = make_account(settings, client, "submitter", state)
        coordinators[state] = make_account(settings, client, "coordinator", state)
        for m, period in enumerate(PERIODS):
            created = client.post("/api/v1/submissions", headers=agency.headers,
                                  data={"ref_area": state, "period": period},
                                  files={"file": ("t.csv", release_table(
                                      state, period, seed=10 * m + n), "text/csv")})
            assert created.status_code == 202, created.text
            assert client.post(f"/api/v1/datasets/{state}/{period}/signoff",
                               headers=coordinators[state].headers,
                               json={}).status_code == 200
    assert client.put("/api/v1/states/KAZ/consent", headers=coordinators["KAZ"].headers,
                      json={"publication_consent": "national"}).status_code == 200
    admin = make_account(settings, client, "admin")
    analyst = make_account(settings, client, "analyst")
    releases = {}
    for period in PERIODS:
        created = client.post("/api/v1/releases", headers=admin.headers, json={"period": period})
        assert created.status_code == 202, created.text
        releases[period] = client.get(f"/api/v1/releases/{created.json()['id']}").json()
        assert releases[period]["status"] == "published", releases[period]
    return Published(client, settings, admin, analyst, releases)


def _cells(client, period: str) -> pl.DataFrame:
    release = client.get("/api/v1/releases", params={"period": period}).json()[-1]
    return pl.DataFrame(client.get(f"/api/v1/releases/{release['id']}/cells").json())


def _sdmx_csv(response) -> pl.DataFrame:
    assert response.status_code == 200, response.text
    return pl.read_csv(io.BytesIO(response.content), infer_schema=False)


def test_released_data_in_every_format_with_suppressed_cells_valueless(published) -> None:
    client = published.client
    cells = _cells(client, "2026-Q3")
    suppressed = cells.filter(pl.col("CONF_STATUS") != "F")
    assert suppressed.height  # the fixture's tables do have suppressions

    # SDMX-CSV 2.0: every released cell of the quarter, suppressed ones empty with CONF_STATUS.
    csv = _sdmx_csv(client.get(f"{FLOW}/all", params={"startPeriod": "2026-Q3",
                                                      "format": "sdmx-csv"}))
    assert csv.columns[:4] == ["STRUCTURE", "STRUCTURE_ID", "ACTION", "FREQ"]
    assert set(csv["STRUCTURE_ID"]) == {"MMX:DF_MIXED_MOVEMENTS_Q(2.0.0)"}
    assert csv.height == cells.height
    hidden = csv.filter(pl.col("CONF_STATUS") != "F")
    assert hidden.height == suppressed.height and hidden["OBS_VALUE"].null_count() == hidden.height
    assert csv.filter(pl.col("CONF_STATUS") == "F")["OBS_VALUE"].null_count() == 0

    # The default for */* is SDMX-ML structure-specific, which sdmx1 reads.
    xml = client.get(f"{FLOW}/{KAZ_TOTALS}", headers={"Accept": "*/*"})
    assert xml.status_code == 200, xml.text
    assert xml.headers["content-type"].startswith(
        "application/vnd.sdmx.structurespecificdata+xml")
    assert xml.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<mes:')
    message = sdmx.read_sdmx(io.BytesIO(xml.content))
    observations = message.data[0].obs
    assert observations and {o.key["REF_AREA"].value for o in observations} == {"KAZ"}
    kaz_cells = cells.filter((pl.col("AREA") == "KAZ") & (pl.col("AGE") == "_T")
                             & (pl.col("SEX") == "_T") & (pl.col("SPEC_NEED") == "_T"))
    q3 = [o for o in observations if o.dimension.values["TIME_PERIOD"].value == "2026-Q3"]
    assert len(q3) == kaz_cells.height
    for o in q3:
        if o.attrib["CONF_STATUS"].value != "F":
            assert o.value is None

    # Generic data, by Accept.
    generic = client.get(f"{FLOW}/{KAZ_TOTALS}",
                         headers={"Accept": "application/vnd.sdmx.genericdata+xml"})
    assert generic.status_code == 200 and b"<mes:GenericData" in generic.content
    assert len(sdmx.read_sdmx(io.BytesIO(generic.content)).data[0].obs) == len(observations)

    # SDMX-JSON 2.0, valid against the official schema.
    answer = client.get(f"{FLOW}/Q.KAZ+CENTRAL_ASIA",
                        headers={"Accept": "application/vnd.sdmx.data+json;version=2.0.0"})
    assert answer.status_code == 200
    document = answer.json()
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft201909Validator(
        schema, format_checker=jsonschema.Draft201909Validator.FORMAT_CHECKER)
    assert [e.message for e in validator.iter_errors(document)] == []
    areas = document["data"]["structures"][0]["dimensions"]["series"][1]["values"]
    assert {v["id"] for v in areas} == {"KAZ", "CENTRAL_ASIA"}
    values = [obs[0] for series in document["data"]["dataSets"][0]["series"].values()
              for obs in series["observations"].values()]
    assert None in values and any(isinstance(v, int) for v in values)

    # Plain CSV and JSON with labels in the caller's language.
    plain = client.get(f"{FLOW}/{KAZ_TOTALS}", params={"format": "csv"},
                       headers={"Accept-Language": "ru, en;q=0.5"})
    assert plain.headers["content-language"] == "ru"
    table = pl.read_csv(io.BytesIO(plain.content), infer_schema=False)
    assert "Казахстан" in set(table["Отчитывающееся государство"])
    people = client.get(f"{FLOW}/{KAZ_TOTALS}", headers={"Accept": "application/json",
                                                         "Accept-Language": "fr"}).json()
    assert people["observations"][0]["FREQ_LABEL"] == "Trimestrielle"
    assert all(o["OBS_VALUE"] is None for o in people["observations"]
               if o["CONF_STATUS"] != "F")


def test_keys_periods_detail_and_observation_packaging(published) -> None:
    client = published.client

    def rows(path: str = "all", **params) -> pl.DataFrame:
        return _sdmx_csv(client.get(f"{FLOW}/{path}", params={"format": "sdmx-csv", **params}))

    everything = rows()
    assert set(everything["TIME_PERIOD"]) == set(PERIODS)
    # A year covers its quarters; a quarter itself; the half-year before Q3 only Q2.
    assert rows(startPeriod="2026", endPeriod="2026").height == everything.height
    assert set(rows(startPeriod="2026-Q3")["TIME_PERIOD"]) == {"2026-Q3"}
    assert set(rows(endPeriod="2026-S1")["TIME_PERIOD"]) == {"2026-Q2"}
    assert client.get(f"{FLOW}/all", params={"startPeriod": "2027"}).status_code == 404
    # Wildcards and alternatives.
    both = rows("Q.KAZ+CENTRAL_ASIA")
    assert set(both["REF_AREA"]) == {"KAZ", "CENTRAL_ASIA"}
    assert set(rows("*.KAZ.*.*.*.*.*.F")["SEX"]) == {"F"}
    # First/last N observations of each time series.
    last = rows(KAZ_TOTALS, lastNObservations="1")
    first = rows(KAZ_TOTALS, firstNObservations="1")
    assert set(last["TIME_PERIOD"]) == {"2026-Q3"} and set(first["TIME_PERIOD"]) == {"2026-Q2"}
    # Detail: series keys only, data without attributes.
    keys = rows(KAZ_TOTALS, detail="serieskeysonly")
    assert "OBS_VALUE" not in keys.columns and "TIME_PERIOD" not in keys.columns
    assert keys.height == keys.unique().height
    data_only = rows(KAZ_TOTALS, detail="dataonly")
    assert "CONF_STATUS" not in data_only.columns
    xml = client.get(f"{FLOW}/{KAZ_TOTALS}", params={"detail": "serieskeysonly"})
    assert b"<Obs" not in xml.content and b"<Series" in xml.content
    # dimensionAtObservation: flat, or cross-sections by another dimension.
    flat = client.get(f"{FLOW}/{KAZ_TOTALS}",
                      params={"dimensionAtObservation": "AllDimensions"})
    assert b'dimensionAtObservation="AllDimensions"' in flat.content
    assert b"<Series" not in flat.content
    by_sex = client.get(f"{FLOW}/Q.KAZ", params={"dimensionAtObservation": "SEX"})
    message = sdmx.read_sdmx(io.BytesIO(by_sex.content))
    assert message.data[0].obs
    assert b'<Obs SEX="' in by_sex.content
    # updatedAfter: nothing was published after now; everything after the epoch.
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert client.get(f"{FLOW}/all", params={"updatedAfter": future}).status_code == 404
    assert rows(updatedAfter="2000-01-01T00:00:00Z").height == everything.height


def test_availability_says_which_codes_hold_data(published) -> None:
    client = published.client
    exact = client.get("/sdmx/availableconstraint/DF_MIXED_MOVEMENTS_Q/Q.KAZ/all/all")
    assert exact.status_code == 200, exact.text
    message = sdmx.read_sdmx(io.BytesIO(exact.content))
    constraint = next(iter(message.constraint.values()))
    region = constraint.data_content_region[0]
    areas = {v.value for v in region.member[next(d for d in region.member
                                                  if d.id == "REF_AREA")].values}
    assert areas == {"KAZ"}
    assert b'<com:Annotation id="obs_count">' in exact.content
    available = client.get("/sdmx/availableconstraint/DF_MIXED_MOVEMENTS_Q/Q.KAZ/all/REF_AREA",
                           params={"mode": "available", "format": "sdmx-json"})
    assert available.status_code == 200
    key_values = available.json()["data"]["contentConstraints"][0]["cubeRegions"][0][
        "keyValues"]
    assert {"KAZ", "CENTRAL_ASIA"} <= set(key_values[0]["values"])
    assert "KGZ" not in key_values[0]["values"]  # no national consent: never published
    assert client.get("/sdmx/availableconstraint/DF_MIXED_MOVEMENTS_Q/Q.KGZ").status_code \
        == 404


def test_released_answers_are_cacheable_and_revalidate(published) -> None:
    client = published.client
    url = f"{FLOW}/{KAZ_TOTALS}"
    first = client.get(url, params={"format": "sdmx-csv"})
    tag = first.headers["etag"]
    assert first.headers["cache-control"].startswith("public")
    assert "Accept-Language" in first.headers["vary"]
    assert client.get(url, params={"format": "sdmx-csv"},
                      headers={"If-None-Match": tag}).status_code == 304
    assert client.get(url, params={"format": "sdmx-csv"}, headers={
        "If-Modified-Since": first.headers["last-modified"]}).status_code == 304
    # "*": any current answer; a query that matches nothing has none.
    assert client.get(url, headers={"If-None-Match": "*"}).status_code == 304
    assert client.get(f"{FLOW}/Q.KAZ.......", params={"startPeriod": "2001", "endPeriod": "2001"},
                      headers={"If-None-Match": "*"}).status_code == 404
    nowhere = client.get(f"{FLOW}/Q.KAZ..._T.NATZ.ATA._T._T", headers={"If-None-Match": "*"})
    assert nowhere.status_code == 404, nowhere.text  # released periods, but no such cells
    again = client.get(url, params={"format": "sdmx-csv"})  # from the response cache
    assert again.content == first.content and again.headers["etag"] == tag
    other = client.get(url, params={"format": "csv"})
    assert other.headers["etag"] != tag
    release = published.releases["2026-Q3"]["id"]
    named = client.get(url, params={"release": str(release)})
    assert "immutable" in named.headers["cache-control"]


def test_a_new_version_of_the_code_or_standard_never_serves_an_older_answer(
        published, monkeypatch) -> None:
    client = published.client
    url = f"{FLOW}/{KAZ_TOTALS}"
    old = client.get(url, params={"format": "sdmx-csv"})
    structure = client.get("/sdmx/dataflow/MMX/DF_MIXED_MOVEMENTS_Q/latest")
    monkeypatch.setattr(cache, "code_fingerprint", lambda: "another-version")
    new = client.get(url, params={"format": "sdmx-csv"}, headers={
        "If-None-Match": old.headers["etag"]})
    assert new.status_code == 200 and new.headers["etag"] != old.headers["etag"]
    assert client.get("/sdmx/dataflow/MMX/DF_MIXED_MOVEMENTS_Q/latest", headers={
        "If-None-Match": structure.headers["etag"]}).status_code == 200


def test_answers_are_gzip_encoded_for_callers_that_take_it(published) -> None:
    """Compressed on the way out and in the cache; the same bytes once decoded, for callers
    that take gzip and those that do not (served from the cache after the first)."""
    client = published.client
    url = f"{FLOW}/{KAZ_TOTALS}"
    for attempt in ("built", "cached"):
        zipped = client.get(url, headers={"Accept-Encoding": "gzip"})
        plain = client.get(url, headers={"Accept-Encoding": "identity"})
        assert zipped.status_code == plain.status_code == 200, attempt
        assert zipped.headers["content-encoding"] == "gzip"
        assert "content-encoding" not in plain.headers
        assert "Accept-Encoding" in zipped.headers["vary"]
        assert zipped.headers["etag"] != plain.headers["etag"]

        def body(answer) -> str:  # the message without its per-answer header
            text = answer.text
            return text[text.index("<mes:DataSet"):]

        assert body(zipped) == body(plain) and "<Obs " in body(plain)
    tag = zipped.headers["etag"]
    assert client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": tag}
                      ).status_code == 304


@contextlib.contextmanager
def serve(app) -> Iterator[str]:
    """``app`` served by uvicorn on a free port (real HTTP, real sockets): the SDMX base URL."""
    with serve_http(app) as base:
        yield f"{base}/sdmx"


def _sdmx1_dsd():
    """The published DSD as sdmx1's model, built from our catalogue (what a client holding the
    DSD already passes as ``dsd=``)."""
    from sdmx.model import common
    from sdmx.model import v21 as model

    structure = load_catalogue().structures["MIXED_MOVEMENTS"]
    dsd = model.DataStructureDefinition(id=structure.id, version=structure.version,
                                        maintainer=common.Agency(id=structure.agency))
    for dimension in structure.key_dimensions:
        dsd.dimensions.getdefault(dimension.id)
    dsd.dimensions.append(model.TimeDimension(id="TIME_PERIOD"))
    dsd.measures.getdefault(structure.measure.id)
    for attribute in structure.attributes:
        dsd.attributes.getdefault(attribute.id)
    return dsd


def test_real_clients_read_our_data_over_http(published) -> None:
    """sdmx1 (``add_source`` + ``Client``) reads by a dict key with startPeriod; pysdmx reads
    our SDMX-ML and SDMX-CSV with XSD validation."""
    with serve(published.client.app) as base:
        # The source id is the agency sdmx1 asks structures of (/dataflow/MMX/...).
        sdmx.add_source({"id": "MMX", "url": base, "name": "MMX exchange (test)",
                         "supports": {"datastructure": True}}, override=True)
        client = sdmx.Client("MMX")
        message = client.data("DF_MIXED_MOVEMENTS_Q", key={"REF_AREA": "KAZ", "SEX": "_T"},
                              params={"startPeriod": "2026-Q3"}, dsd=_sdmx1_dsd())
        observations = message.data[0].obs
        assert observations
        assert {o.key["REF_AREA"].value for o in observations} == {"KAZ"}
        assert {o.key["SEX"].value for o in observations} == {"_T"}
        assert {o.dimension.values["TIME_PERIOD"].value for o in observations} == {"2026-Q3"}
        assert all(o.value is None for o in observations if o.attrib["CONF_STATUS"].value != "F")
        frame = sdmx.to_pandas(message.data[0])
        assert len(frame) == len(observations)

        # Without dsd=, sdmx1 reads the DSD from /sdmx/dataflow (the structure routes).
        again = client.data("DF_MIXED_MOVEMENTS_Q", key={"REF_AREA": "KAZ", "SEX": "_T"},
                            params={"startPeriod": "2026-Q3"})
        assert len(again.data[0].obs) == len(observations)
        assert {o.key["REF_AREA"].value for o in again.data[0].obs} == {"KAZ"}
        with httpx.Client(base_url=base) as http:
            xml = http.get("/data/DF_MIXED_MOVEMENTS_Q/Q.KAZ", params={"startPeriod": "2026"})
            csv = http.get("/data/DF_MIXED_MOVEMENTS_Q/Q.KAZ", params={"startPeriod": "2026"},
                           headers={"Accept": "application/vnd.sdmx.data+csv;version=2.0.0"})
        for answer in (xml, csv):
            assert answer.status_code == 200, answer.text
            read = read_sdmx(answer.text, validate=True)
            frame = read.data[0].data
            assert read.data[0].short_urn == "Dataflow=MMX:DF_MIXED_MOVEMENTS_Q(2.0.0)"
            assert set(frame["REF_AREA"]) == {"KAZ"}
            assert set(frame["TIME_PERIOD"]) == set(PERIODS)
            hidden = frame[frame["CONF_STATUS"] != "F"]
            # No value: absent in SDMX-ML, an empty field in SDMX-CSV.
            assert len(hidden) and hidden["OBS_VALUE"].fillna("").astype(str).eq("").all()


def test_embargoed_and_harmonized_data_only_for_those_who_may(published) -> None:
    """Last of the module's tests on ``published``: it adds an embargoed release."""
    client, admin, analyst = published.client, published.admin, published.analyst
    before = _sdmx_csv(client.get(f"{FLOW}/{KAZ_TOTALS}", params={"format": "sdmx-csv"}))
    until = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    created = client.post("/api/v1/releases", headers=admin.headers,
                          json={"period": "2026-Q3", "embargo_until": until})
    assert created.status_code == 202
    embargoed = created.json()["id"]
    # The public still reads the first release of the quarter; the analyst the embargoed one.
    after = _sdmx_csv(client.get(f"{FLOW}/{KAZ_TOTALS}", params={"format": "sdmx-csv"}))
    assert after.equals(before)
    assert client.get(f"{FLOW}/all", params={"release": str(embargoed)}).status_code == 404
    seen = client.get(f"{FLOW}/all", params={"release": str(embargoed)},
                      headers=analyst.headers)
    assert seen.status_code == 200 and seen.headers["cache-control"] == "private, no-store"

    # Harmonized, unprotected data: never anonymous; the analyst every state (even KGZ, which
    # publishes only inside regional totals); a state's agency its own.
    assert client.get(f"{FLOW}/Q.KGZ", params={"release": "harmonized"}).status_code == 401
    kgz = client.get(f"{FLOW}/Q.KGZ", params={"release": "harmonized", "format": "sdmx-csv"},
                     headers=analyst.headers)
    assert kgz.status_code == 200 and kgz.headers["cache-control"] == "private, no-store"
    assert "etag" not in kgz.headers
    harmonized = _sdmx_csv(kgz)
    assert harmonized["OBS_VALUE"].null_count() < harmonized.height
    kaz_agency = published.account("submitter", "KAZ")
    assert client.get(f"{FLOW}/Q.KGZ", params={"release": "harmonized"},
                      headers=kaz_agency.headers).status_code == 403
    own = _sdmx_csv(client.get(f"{FLOW}/all", params={"release": "harmonized",
                                                      "format": "sdmx-csv"},
                               headers=kaz_agency.headers))
    assert set(own["REF_AREA"]) == {"KAZ"}
    # Anonymous released data never carries a value for a suppressed cell.
    public = _sdmx_csv(client.get(f"{FLOW}/all", params={"format": "sdmx-csv"}))
    assert public.filter(pl.col("CONF_STATUS") != "F")["OBS_VALUE"].null_count() == \
        public.filter(pl.col("CONF_STATUS") != "F").height


ERRORS = [
    (f"{FLOW}/all", {"startPeriod": "2026-13"}, {}, 400),
    (f"{FLOW}/all", {"startPeriod": "2026-Q3", "endPeriod": "2026-Q1"}, {}, 400),
    (f"{FLOW}/Q.KAZ.x.y.z.a.b.c.d.e.f", {}, {}, 400),
    (f"{FLOW}/Q.KA%20Z", {}, {}, 400),
    (f"{FLOW}/all", {"detail": "everything"}, {}, 400),
    (f"{FLOW}/all", {"dimensionAtObservation": "COLOUR"}, {}, 400),
    (f"{FLOW}/all", {"lastNObservations": "-1"}, {}, 400),
    (f"{FLOW}/all", {"firstNObservations": "\u00b2"}, {}, 400),  # a digit int() refuses
    (f"{FLOW}/all", {"startPeriod": "9999-W52"}, {}, 400),  # its Sunday is past the calendar
    (f"{FLOW}/all", {"updatedAfter": "yesterday"}, {}, 400),
    (f"{FLOW}/all", {"release": "latest-ish"}, {}, 400),
    ("/sdmx/data/DF_NOTHING", {}, {}, 404),
    ("/sdmx/data/OTHER,DF_MIXED_MOVEMENTS_Q,latest", {}, {}, 404),
    (f"{FLOW}/W", {}, {}, 404),
    (f"{FLOW}/Q.XXX", {}, {}, 404),
    (f"{FLOW}/all/OTHER_PROVIDER", {}, {}, 404),
    (f"{FLOW}/all", {}, {"Accept": "application/pdf"}, 406),
    (f"{FLOW}/all", {"format": "xlsx"}, {}, 406),
    # SDMX-CSV 1.0 is another layout: asked for, it is not acceptable, not replaced by 2.0.
    (f"{FLOW}/all", {}, {"Accept": "application/vnd.sdmx.data+csv;version=1.0.0"}, 406),
    (f"{FLOW}/all", {}, {"Accept": "application/vnd.sdmx.structurespecificdata+xml;"
                                    "version=3.0.0"}, 406),
    (f"{FLOW}/all", {"includeHistory": "true"}, {}, 501),
    (f"{FLOW}/all", {"c[FREQ]": "Q"}, {}, 501),
]


def test_errors_are_the_specifications(client) -> None:
    """No release exists here: malformed queries are 400 (never 422 or 500), a format we do
    not produce 406, what we do not implement 501, and everything else finds nothing: 404."""
    wrong = []
    for path, params, headers, status in ERRORS:
        answer = client.get(path, params=params, headers=headers)
        if answer.status_code != status or \
                answer.headers["content-type"] != "application/problem+json":
            wrong.append((path, params, answer.status_code, answer.text))
        elif status in (400, 404, 501):
            assert answer.json()["sdmx_code"] == {400: 150, 404: 100, 501: 501}[status]
    assert wrong == []


def test_odd_input_against_real_releases_is_a_client_error(published) -> None:
    """With releases to read, input that once reached int() or date arithmetic unguarded."""
    client = published.client
    for params, status in (({"release": "\u00b2"}, 400), ({"lastNObservations": "\u00b2"}, 400),
                           ({"endPeriod": "0001-01-01"}, 404)):
        answer = client.get(f"{FLOW}/all", params=params)
        assert answer.status_code == status, (params, answer.text)
    answer = client.get(f"{FLOW}/all", params={"release": "harmonized",
                                               "endPeriod": "0001-01-01"},
                        headers=published.analyst.headers)
    assert answer.status_code == 404, answer.text


def test_postgresql_answers_through_copy_as_a_cursor_would_and_frees_an_abandoned_one(
        published, monkeypatch) -> None:
    url = published.settings.database_url
    if not url.startswith("postgresql"):
        pytest.skip("COPY is PostgreSQL's; SQLite answers through its cursor")
    query = parse_data_query(load_catalogue(), flow="DF_MIXED_MOVEMENTS_Q", key="all",
                             provider=None, params={})
    engine = get_engine(url)
    with engine.connect() as connection:
        src = data_service.source(sa.orm.Session(connection), query, data_service.Access(None))
        statement = data_service.rows_statement(src, query)
        expected = [tuple(row) for row in connection.execute(statement)]
    assert len(expected) > 100 and any(row[10] is None for row in expected)  # suppressed
    answer = data_service.open_rows(url, statement)
    assert isinstance(answer, data_service.Frames)
    assert list(answer) == expected  # same values, types, nulls and order

    monkeypatch.setattr(data_service, "FRAME_BYTES", 2_000)  # many frames
    before = engine.pool.checkedout()
    answer = data_service.open_rows(url, statement)
    frames = answer.frames()
    assert next(frames).height < len(expected)
    frames.close()  # the client went away after the first frame
    assert engine.pool.checkedout() == before
    with engine.connect() as connection:  # and the connection came back usable
        assert len(connection.execute(statement).all()) == len(expected)


def test_nothing_released_is_404_not_an_empty_message(client) -> None:
    answer = client.get(f"{FLOW}/all")
    assert answer.status_code == 404
    assert answer.json()["type"].endswith("/no-results")
