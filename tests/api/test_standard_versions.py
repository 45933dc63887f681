"""The server applies the same 2.0.0 rules as `mmx validate`: a 1.0.0 upload is mapped forward
and lands in 2.0.0 shape, a declared rounding travels with the submission and widens the
additivity check, and the new rules reject what the CLI rejects."""

from __future__ import annotations

import polars as pl
from sqlmodel import select

from exchange.core.db import session_scope
from exchange.harmonization.models import Observation
from tests.api.conftest import csv_bytes
from tests.test_standard_2 import _rounded_table, version_1_table


def test_a_1_0_0_upload_is_harmonized_in_2_0_0_shape(client, kaz, upload, settings) -> None:
    created = upload(kaz, csv_bytes(version_1_table()), standard_version="1.0.0").json()
    assert created["standard_version"] == "1.0.0"
    done = client.get(f"/api/v1/submissions/{created['id']}", headers=kaz.headers).json()
    assert done["status"] == "harmonized", done
    with session_scope(settings.resolved_database_url, writes=False) as session:
        rows = session.exec(select(Observation).where(Observation.ref_area == "KAZ")).all()
    vot = {(o.pop_group, o.measure) for o in rows if o.spec_need == "VOT"}
    assert vot == {("_T", "INFLOW")}
    assert "VOT" not in {o.pop_group for o in rows}
    assert {o.obs_status for o in rows if o.value is None} == {"O"}
    assert {o.freq for o in rows} == {"Q"} and {o.unit_measure for o in rows} == {"PER"}
    assert {o.counterpart_area for o in rows if o.measure == "STOCK"} == {"_Z"}


def test_a_declared_rounding_is_stored_and_widens_the_check(client, kaz, upload) -> None:
    table = csv_bytes(_rounded_table())
    plain = upload(kaz, table).json()
    assert plain["rounding_base"] is None
    assert client.get(f"/api/v1/submissions/{plain['id']}", headers=kaz.headers
                      ).json()["status"] == "rejected"
    # The same figures in another row order: identical bytes would be the same submission.
    rounded = upload(kaz, csv_bytes(_rounded_table().reverse()), rounding="5").json()
    assert rounded["rounding_base"] == 5
    assert client.get(f"/api/v1/submissions/{rounded['id']}", headers=kaz.headers
                      ).json()["status"] == "harmonized"


def test_the_server_rejects_a_specific_need_above_its_total(client, kaz, upload,
                                                            example) -> None:
    key = dict(POP_GROUP="ASY", MEASURE="STOCK", CITIZENSHIP="AFG", SEX="F", AGE="Y18T59")
    total = int(example.filter(**key, SPEC_NEED="_T")["OBS_VALUE"].item())
    frame = example.with_columns(
        pl.when(pl.all_horizontal([pl.col(c) == v for c, v in {**key, "SPEC_NEED": "VOT"}.items()]))
        .then(pl.lit(str(total + 1))).otherwise(pl.col("OBS_VALUE")).alias("OBS_VALUE"))
    body = upload(kaz, csv_bytes(frame)).json()
    report = client.get(f"/api/v1/submissions/{body['id']}/report", headers=kaz.headers).json()
    assert "subset" in {e["rule"] for e in report["errors"]}
