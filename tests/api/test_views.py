"""The task force's coverage matrix and the annual export in UNHCR's shape, over the real API
(SQLite and PostgreSQL, inline processing): each cell state of the matrix, its quality flags
and revisions, CSV, who may see it; the annual figures derived from quarters (stocks at the
fourth quarter, flows summed), suppression carried into the year, and anonymous callers never
given an unprotected figure."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from exchange.core.db import session_scope
from exchange.publication.models import Release, ReleaseCell
from exchange.submissions.models import Dataset, Submission
from tests.api.conftest import csv_bytes, release_table
from tests.conftest import PERIOD, corrupt

MATRIX = "/api/v1/coverage"
EARLIER = "2026-Q2"


def _upload(client, account, upload, state: str, content: bytes, period: str = PERIOD):
    created = upload(account("submitter", state), content, ref_area=state, period=period)
    assert created.status_code == 202, created.text
    return created.json()


def _sign_off(client, account, state: str, period: str = PERIOD) -> None:
    signed = client.post(f"/api/v1/datasets/{state}/{period}/signoff",
                         headers=account("coordinator", state).headers, json={})
    assert signed.status_code == 200, signed.text


def _received_only(settings, state: str, period: str, client_id: str) -> None:
    """An upload the workers have not picked up yet (inline processing finishes every upload
    before answering, so the row is written as intake would leave it)."""
    with session_scope(settings.resolved_database_url) as session:
        dataset = Dataset(ref_area=state, period=period, latest_revision=1)
        session.add(dataset)
        session.flush()
        session.add(Submission(dataset_id=dataset.id or 0, revision=1, ref_area=state,
                               period=period, standard_version="2.0.0", sha256="0" * 64,
                               size_bytes=1, file_format="csv", filename="uzb.csv",
                               storage_key="none", status="received", next_stage="validate",
                               client_id=client_id))


@pytest.fixture
def quarter(client, account, upload, settings, example) -> dict[str, object]:
    """Central Asia in 2026-Q3: KAZ released, KGZ signed off after the release, TJK
    harmonized with provisional and break observations, TKM harmonized then a rejected
    revision, UZB nothing (but a 2026-Q2 upload still waiting to be processed)."""
    admin = account("admin")
    _upload(client, account, upload, "KAZ", release_table("KAZ", PERIOD, seed=1))
    _sign_off(client, account, "KAZ")
    _upload(client, account, upload, "KGZ", release_table("KGZ", PERIOD, seed=2))
    release = client.post("/api/v1/releases", headers=admin.headers, json={"period": PERIOD})
    assert release.status_code == 202, release.text
    assert client.get(f"/api/v1/releases/{release.json()['id']}").json()["status"] \
        == "published"
    _sign_off(client, account, "KGZ")  # after the release was asked for: not in it
    tjk = pl.read_csv(io.BytesIO(release_table("TJK", PERIOD, seed=3)), infer_schema=False)
    statuses = ["P"] * 3 + ["B"] * 2 + tjk["OBS_STATUS"].to_list()[5:]
    tjk = tjk.with_columns(pl.Series("OBS_STATUS", statuses))
    _upload(client, account, upload, "TJK", csv_bytes(tjk))
    first = _upload(client, account, upload, "TKM", release_table("TKM", PERIOD, seed=4))
    bad = corrupt(pl.read_csv(io.BytesIO(release_table("TKM", PERIOD, seed=5)),
                              infer_schema=False), 2, "CITIZENSHIP", "AFX")
    second = _upload(client, account, upload, "TKM", csv_bytes(bad))
    uzb = account("submitter", "UZB")
    _received_only(settings, "UZB", EARLIER, uzb.client_id)
    return {"admin": admin, "analyst": account("analyst"), "tkm": (first, second)}


def _cells(body: dict) -> dict[tuple[str, str], dict]:
    return {(c["ref_area"], c["period"]): c for c in body["cells"]}


def test_the_matrix_shows_how_far_each_states_latest_revision_got(client, quarter) -> None:
    answer = client.get(MATRIX, params={"region": "CENTRAL_ASIA"},
                        headers=quarter["analyst"].headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    # By default the last quarters with any data: 2026-Q2 (UZB) and 2026-Q3.
    assert body["periods"] == [EARLIER, PERIOD]
    assert body["states"] == ["KAZ", "KGZ", "TJK", "TKM", "UZB"]
    cells = _cells(body)
    assert {state: cells[state, PERIOD]["state"] for state in body["states"]} == {
        "KAZ": "released", "KGZ": "signed_off", "TJK": "harmonized", "TKM": "rejected",
        "UZB": "missing"}
    assert cells["UZB", EARLIER]["state"] == "received"
    assert cells["KAZ", EARLIER]["state"] == "missing" and cells["KAZ", EARLIER]["expected"]


def test_released_needs_a_release_asked_for_after_the_sign_off(client, account,
                                                              quarter) -> None:
    """A sign-off taken back and given again postdates the release: what the release holds is
    no longer known to be this sign-off's, so the cell says signed_off until the next one."""
    coordinator = account("coordinator", "KAZ")
    signoff = f"/api/v1/datasets/KAZ/{PERIOD}/signoff"
    assert client.delete(signoff, headers=coordinator.headers).status_code == 200

    def kaz() -> str:
        body = client.get(MATRIX, headers=quarter["analyst"].headers).json()
        return _cells(body)["KAZ", PERIOD]["state"]

    assert kaz() == "harmonized"
    assert client.post(signoff, headers=coordinator.headers, json={}).status_code == 200
    assert kaz() == "signed_off"
    again = client.post("/api/v1/releases", headers=quarter["admin"].headers,
                        json={"period": PERIOD})
    assert again.status_code == 202, again.text
    assert kaz() == "released"


def test_a_rejected_revision_keeps_the_harmonized_one_and_the_history(client,
                                                                      quarter) -> None:
    body = client.get(MATRIX, headers=quarter["analyst"].headers).json()
    tkm = _cells(body)["TKM", PERIOD]
    first, second = quarter["tkm"]
    assert (tkm["latest_revision"], tkm["harmonized_revision"]) == (2, 1)
    assert [(r["revision"], r["submission_id"], r["status"]) for r in tkm["revisions"]] == [
        (1, first["id"], "harmonized"), (2, second["id"], "rejected")]
    assert tkm["revisions"][0]["received_at"] <= tkm["revisions"][1]["received_at"]
    kaz = _cells(body)["KAZ", PERIOD]
    assert [(r["status"], r["review"]) for r in kaz["revisions"]] == [
        ("harmonized", "signed_off")]
    assert _cells(body)["UZB", PERIOD]["revisions"] == []


def test_quality_flags_count_the_harmonized_observations_by_status(client, quarter) -> None:
    analyst = quarter["analyst"]
    cells = _cells(client.get(MATRIX, headers=analyst.headers).json())
    for state in ("KAZ", "TJK"):
        rows = pl.DataFrame(client.get("/api/v1/observations", headers=analyst.headers,
                                       params={"ref_area": state, "period": PERIOD}).json())
        counts = rows["OBS_STATUS"].value_counts()
        count = dict(zip(counts["OBS_STATUS"], counts["count"], strict=True))
        assert cells[state, PERIOD]["flags"] == {
            "estimated": count.get("E", 0), "provisional": count.get("P", 0),
            "breaks": count.get("B", 0)}
    assert cells["TJK", PERIOD]["flags"]["provisional"] >= 3
    assert cells["TJK", PERIOD]["flags"]["breaks"] >= 2
    assert cells["UZB", PERIOD]["flags"] == {"estimated": 0, "provisional": 0, "breaks": 0}


def test_the_matrix_as_csv_is_one_row_per_cell(client, quarter) -> None:
    params = {"region": "CENTRAL_ASIA", "startPeriod": "2026-Q1", "endPeriod": "2026-Q4"}
    by_param = client.get(MATRIX, params={**params, "format": "csv"},
                          headers=quarter["analyst"].headers)
    by_accept = client.get(MATRIX, params=params,
                           headers={**quarter["analyst"].headers, "Accept": "text/csv"})
    assert by_param.headers["content-type"].startswith("text/csv")
    assert by_param.text == by_accept.text
    rows = list(csv.DictReader(io.StringIO(by_param.text)))
    assert len(rows) == 5 * 4  # five states, four quarters
    tkm = next(r for r in rows if (r["REF_AREA"], r["TIME_PERIOD"]) == ("TKM", PERIOD))
    assert (tkm["STATE"], tkm["LATEST_REVISION"], tkm["HARMONIZED_REVISION"]) == (
        "rejected", "2", "1")
    assert tkm["REVISIONS"].startswith("1 harmonized ") and "; 2 rejected " in tkm["REVISIONS"]
    assert {r["STATE"] for r in rows if r["TIME_PERIOD"] in ("2026-Q1", "2026-Q4")} \
        == {"missing"}


def test_quarters_are_asked_for_as_a_range(client, analyst) -> None:
    def periods(**params) -> list[str]:
        answer = client.get(MATRIX, params={"region": "CENTRAL_ASIA", **params},
                            headers=analyst.headers)
        assert answer.status_code == 200, answer.text
        return answer.json()["periods"]

    assert periods() == []  # no data anywhere yet
    assert periods(startPeriod="2025-Q4", endPeriod="2026-Q2") == [
        "2025-Q4", "2026-Q1", "2026-Q2"]
    assert periods(endPeriod="2026-Q2") == [
        "2024-Q3", "2024-Q4", "2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4", "2026-Q1",
        "2026-Q2"]
    assert periods(startPeriod="2026-Q1") == ["2026-Q1"]
    for bad in ({"startPeriod": "2026-Q3", "endPeriod": "2026-Q1"},
                {"startPeriod": "2000-Q1", "endPeriod": "2026-Q1"},
                {"startPeriod": "2026-W01"}):
        answer = client.get(MATRIX, params=bad, headers=analyst.headers)
        assert answer.status_code == 422, (bad, answer.text)


def test_who_may_see_the_matrix(client, account) -> None:
    for who, region, want in [
            (None, "CENTRAL_ASIA", 401),
            (account("submitter", "KAZ"), "CENTRAL_ASIA", 403),
            (account("submitter", "KAZ"), None, 403),
            (account("coordinator", "KAZ"), "ECOWAS", 403),  # not a region of KAZ
            (account("coordinator", "KAZ"), "CENTRAL_ASIA", 200),
            (account("analyst"), "ECOWAS", 200), (account("admin"), "ECOWAS", 200)]:
        params = {"region": region} if region else {}
        got = client.get(MATRIX, params=params, headers=who.headers if who else {})
        assert got.status_code == want, (who, region, got.text)
    # Without a region: a coordinator sees the participants of its state's regions only.
    kaz = client.get(MATRIX, params={"startPeriod": PERIOD},
                     headers=account("coordinator", "KAZ").headers).json()["states"]
    every = client.get(MATRIX, params={"startPeriod": PERIOD},
                       headers=account("analyst").headers).json()["states"]
    assert "KAZ" in kaz and "UZB" in kaz and "NGA" not in kaz
    assert set(kaz) < set(every) and "NGA" in every


# --- the annual export -------------------------------------------------------------------------

YEAR = 2025
KEY = {"freq": "Q", "counterpart_area": "_Z", "spec_need": "_T", "citizenship": "AFG"}


def _release(settings, period: str, number: int, cells: list[tuple], *,
             embargo_until: datetime | None = None) -> int:
    """A published release of ``period`` with (area, pop_group, measure, sex, age, value,
    conf_status) cells, written as the ``release`` stage leaves one."""
    with session_scope(settings.resolved_database_url) as session:
        release = Release(period=period, number=number, status="published", trigger="admin",
                          requested_by="test", standard_version="2.0.0",
                          embargo_until=embargo_until)
        session.add(release)
        session.flush()
        session.add_all([ReleaseCell(release_id=release.id or 0, period=period, area=area,
                                     pop_group=group, measure=measure, sex=sex, age=age,
                                     value=value, conf_status=conf, **KEY)
                         for area, group, measure, sex, age, value, conf in cells])
        return int(release.id or 0)


@pytest.fixture
def released_year(settings) -> None:
    """2025 as four releases of KAZ's refugees from Afghanistan (hand-chosen numbers): the
    stock of refugees and the naturalisations of stateless persons, by sex and one age band.
    2025-Q4 was released twice (the second a revision); 2025-Q2 suppressed one figure."""
    for q, (stock, natz_f, natz_m) in enumerate(
            [(700, 3, 4), (710, None, 9), (705, 6, 2), (0, 0, 0)], start=1):
        period = f"{YEAR}-Q{q}"
        cells = [("KAZ", "REF", "STOCK", "_T", "_T", stock, "F"),
                 ("KAZ", "REF", "STOCK", "F", "Y0T4", stock // 10, "F"),
                 ("KAZ", "STA", "NATZ", "F", "_T", natz_f, "F" if natz_f is not None else "A"),
                 ("KAZ", "STA", "NATZ", "M", "_T", natz_m, "F"),
                 ("KAZ", "STA", "NATZ", "_T", "_T", (natz_f or 5) + natz_m, "F"),
                 ("CENTRAL_ASIA", "REF", "STOCK", "_T", "_T", 2 * stock, "F")]
        _release(settings, period, 1, cells)
    # The revision of 2025-Q4: the latest release of the quarter is the one used.
    _release(settings, f"{YEAR}-Q4", 2, [
        ("KAZ", "REF", "STOCK", "_T", "_T", 731, "F"),
        ("KAZ", "REF", "STOCK", "F", "Y0T4", None, "S"),
        ("KAZ", "STA", "NATZ", "F", "_T", 8, "F"), ("KAZ", "STA", "NATZ", "M", "_T", 5, "F"),
        ("KAZ", "STA", "NATZ", "_T", "_T", 13, "F"),
        ("CENTRAL_ASIA", "REF", "STOCK", "_T", "_T", 1500, "F")])
    # Embargoed: the public does not see it, so it is not the latest for them.
    _release(settings, f"{YEAR}-Q4", 3, [("KAZ", "REF", "STOCK", "_T", "_T", 999, "F")],
             embargo_until=datetime.now(UTC) + timedelta(days=1))


def _rows(body: dict) -> dict[tuple[str, str, str], dict]:
    return {(r["coa_iso"], r["pop_type"], r["measure"]): r for r in body["rows"]}


def test_a_year_is_the_fourth_quarters_stock_and_the_sum_of_four_quarters_flows(
        client, released_year) -> None:
    answer = client.get(f"/api/v1/annual/{YEAR}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["basis"] == "protected"
    assert [(q["period"], q["release_number"]) for q in body["quarters"]] == [
        ("2025-Q1", 1), ("2025-Q2", 1), ("2025-Q3", 1), ("2025-Q4", 2)]
    rows = _rows(body)
    stock = rows["KAZ", "REF", "STOCK"]
    assert (stock["year"], stock["coo_iso"], stock["unhcr_table"]) == (YEAR, "AFG",
                                                                       "demographics")
    assert stock["total"] == 731  # Q4's revision, not the embargoed 999 nor Q3's 705
    assert stock["f_0_4"] is None and "f_0_4: 2025-Q4 suppressed (S)" in stock["flags"]
    assert rows["CENTRAL_ASIA", "REF", "STOCK"]["total"] == 1500
    natz = rows["KAZ", "STA", "NATZ"]
    assert natz["unhcr_table"] == "solutions"
    assert (natz["m_total"], natz["total"]) == (4 + 9 + 2 + 5, 7 + 14 + 8 + 13)
    # One quarter's female figure was suppressed: the year's is too, and says which.
    assert natz["f_total"] is None
    assert "f_total: 2025-Q2 suppressed (A)" in natz["flags"]


def test_the_annual_export_as_csv(client, released_year) -> None:
    by_param = client.get(f"/api/v1/annual/{YEAR}", params={"format": "csv"})
    by_accept = client.get(f"/api/v1/annual/{YEAR}", headers={"Accept": "text/csv"})
    assert by_param.headers["content-type"].startswith("text/csv")
    assert by_param.text == by_accept.text
    rows = list(csv.DictReader(io.StringIO(by_param.text)))
    assert list(rows[0])[:8] == ["year", "coo_iso", "coa_iso", "pop_type", "measure",
                                 "unhcr_table", "f_0_4", "f_5_11"]
    kaz = {(r["coa_iso"], r["measure"]): r for r in rows}
    assert kaz["KAZ", "STOCK"]["total"] == "731" and kaz["KAZ", "NATZ"]["f_total"] == ""


def test_analysts_see_the_embargoed_release_as_the_latest(client, released_year,
                                                         analyst) -> None:
    body = client.get(f"/api/v1/annual/{YEAR}", headers=analyst.headers).json()
    assert body["quarters"][-1]["release_number"] == 3
    assert _rows(body)["KAZ", "REF", "STOCK"]["total"] == 999


def test_a_missing_quarter_empties_every_flow_of_the_year(client, released_year) -> None:
    body = client.get(f"/api/v1/annual/{YEAR + 1}").json()
    assert body["rows"] == [] and all(q["release_id"] is None for q in body["quarters"])
    with session_scope(client.app.state.context.database_url) as session:
        session.execute(ReleaseCell.__table__.delete().where(
            ReleaseCell.__table__.c.period == f"{YEAR}-Q3"))
    natz = _rows(client.get(f"/api/v1/annual/{YEAR}").json())["KAZ", "STA", "NATZ"]
    assert natz["total"] is None and "total: 2025-Q3 missing" in natz["flags"]
    assert _rows(client.get(f"/api/v1/annual/{YEAR}").json())["KAZ", "REF", "STOCK"][
        "total"] == 731  # a stock needs only the fourth quarter


@pytest.fixture
def harmonized_year(client, account, upload) -> dict[str, pl.DataFrame]:
    """KAZ's four quarters of 2026, harmonized and signed off, national publication consented;
    only 2026-Q4 released."""
    quarters = {}
    for q in range(1, 5):
        period = f"2026-Q{q}"
        _upload(client, account, upload, "KAZ", release_table("KAZ", period, seed=10 + q),
                period=period)
        _sign_off(client, account, "KAZ", period)
        quarters[period] = pl.DataFrame(client.get(
            "/api/v1/observations", params={"ref_area": "KAZ", "period": period},
            headers=account("analyst").headers).json())
    assert client.put("/api/v1/states/KAZ/consent", json={"publication_consent": "national"},
                      headers=account("coordinator", "KAZ").headers).status_code == 200
    released = client.post("/api/v1/releases", json={"period": "2026-Q4"},
                           headers=account("admin").headers)
    assert released.status_code == 202, released.text
    return quarters


def _natz_totals(quarters: dict[str, pl.DataFrame]) -> dict[tuple[str, str], int]:
    """(citizenship, pop_group) -> the year's naturalisations of all sexes and ages: the sum
    of the four quarters' harmonized totals."""
    frame = pl.concat(list(quarters.values())).filter(
        (pl.col("MEASURE") == "NATZ") & (pl.col("SEX") == "_T") & (pl.col("AGE") == "_T")
        & (pl.col("SPEC_NEED") == "_T") & pl.col("POP_GROUP").is_in(["REF", "STA"]))
    sums = frame.group_by("CITIZENSHIP", "POP_GROUP").agg(pl.col("OBS_VALUE").sum(),
                                                          pl.len())
    assert (sums["len"] == 4).all()
    return {(r["CITIZENSHIP"], r["POP_GROUP"]): r["OBS_VALUE"]
            for r in sums.iter_rows(named=True)}


def test_analysts_may_ask_for_harmonized_annual_figures(client, harmonized_year,
                                                       analyst) -> None:
    answer = client.get("/api/v1/annual/2026", params={"basis": "harmonized"},
                        headers=analyst.headers)
    assert answer.status_code == 200, answer.text
    rows = {(r["coo_iso"], r["pop_type"]): r for r in answer.json()["rows"]
            if r["measure"] == "NATZ" and r["coa_iso"] == "KAZ"}
    expected = _natz_totals(harmonized_year)
    # POP_GROUP REF and STA are UNHCR's population types REF and STA (standards/data/unhcr.yaml).
    assert expected and expected == {key: row["total"] for key, row in rows.items()}


def test_anonymous_callers_never_see_unprotected_figures(client, harmonized_year,
                                                         account) -> None:
    assert client.get("/api/v1/annual/2026", params={"basis": "harmonized"}).status_code \
        == 401
    public = client.get("/api/v1/annual/2026").json()
    assert [q["release_id"] is not None for q in public["quarters"]] == [False] * 3 + [True]
    assert public["quarters"][-1]["coverage"]["CENTRAL_ASIA"] == ["KAZ"]
    flows = [r for r in public["rows"] if r["measure"] == "NATZ"]
    assert flows, public
    for row in flows:  # three quarters were never released: no flow figure of the year
        values = {k: v for k, v in row.items() if k[:2] in ("f_", "m_") or k == "total"}
        assert set(values.values()) == {None}, row
        assert "2026-Q1 missing" in row["flags"]
    # An agency asking for harmonized figures gets its own state's only.
    kgz = client.get("/api/v1/annual/2026", params={"basis": "harmonized"},
                     headers=account("submitter", "KGZ").headers)
    assert kgz.status_code == 200 and kgz.json()["rows"] == []
    refused = client.get("/api/v1/annual/2026", params={"basis": "harmonized", "area": "KAZ"},
                         headers=account("submitter", "KGZ").headers)
    assert refused.status_code == 403
    own = client.get("/api/v1/annual/2026", params={"basis": "harmonized"},
                     headers=account("submitter", "KAZ").headers).json()
    assert own["rows"] and {r["coa_iso"] for r in own["rows"]} == {"KAZ"}


def test_mmx_coverage_and_annual_read_the_api(app, cli, released_year, analyst, kaz) -> None:
    """`mmx coverage` and `mmx annual` print the API's CSV; an agency may not read the
    matrix."""
    from mmx.main import cli as mmx
    from tests.api.test_hardening import serve

    with serve(app) as url:
        env = {"MMX_URL": url, "NO_COLOR": "1", "COLUMNS": "200"}
        year = cli.invoke(mmx, ["annual", str(YEAR), "--area", "KAZ"], env=env)
        assert year.exit_code == 0, year.output
        rows = list(csv.DictReader(io.StringIO(year.stdout)))
        assert {(r["coa_iso"], r["measure"], r["total"]) for r in rows} == {
            ("KAZ", "STOCK", "731"), ("KAZ", "NATZ", "42")}
        refused = cli.invoke(mmx, ["coverage", "--region", "CENTRAL_ASIA"],
                             env={**env, "MMX_TOKEN": kaz.token})
        assert refused.exit_code == 1 and "403" in refused.stderr
        matrix = cli.invoke(mmx, ["coverage", "--region", "CENTRAL_ASIA", "--start", "2026-Q1",
                                  "--end", "2026-Q2"], env={**env, "MMX_TOKEN": analyst.token})
        assert matrix.exit_code == 0, matrix.output
        cells = list(csv.DictReader(io.StringIO(matrix.stdout)))
        assert len(cells) == 10 and {c["STATE"] for c in cells} == {"missing"}
