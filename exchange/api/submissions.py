"""``/api/v1/submissions``: upload quarterly tables, follow their status, read reports."""

from __future__ import annotations

from typing import Annotated

from fastapi import (
    APIRouter,
    BackgroundTasks,
    File,
    Form,
    Header,
    Path,
    Query,
    Request,
    Response,
    UploadFile,
)
from fastapi.responses import FileResponse, PlainTextResponse

from exchange import submissions as service
from exchange.api.deps import DB, Caller, Context, ReadDB, problem_responses
from exchange.api.enums import PERIOD_PATTERN, RefArea, StandardVersion
from exchange.api.schemas import ReportOut, SubmissionOut, SubmissionPage
from exchange.models import SubmissionStatus
from exchange.problems import Problem
from standards.loader import CURRENT_VERSION

router = APIRouter(prefix="/api/v1/submissions", tags=["submissions"])
SubmissionId = Annotated[int, Path(ge=1, le=2**62, description="Submission id.")]
CURRENT = StandardVersion(CURRENT_VERSION)


@router.post(
    "", status_code=202, response_model=SubmissionOut,
    responses={200: {"model": SubmissionOut,
                     "description": "Identical upload recognised; nothing new was created."},
               **problem_responses(401, 403, 413, 415, 422)},
)
def create_submission(
    request: Request,
    response: Response,
    context: Context,
    session: DB,
    caller: Caller,
    background: BackgroundTasks,
    file: Annotated[UploadFile, File(description="CSV, SDMX-CSV 1.0 or XLSX table.")],
    ref_area: Annotated[RefArea, Form(description="Declared reporting state.")],
    period: Annotated[str, Form(pattern=PERIOD_PATTERN, description="Declared quarter.",
                                examples=["2026-Q3"])],
    standard_version: Annotated[StandardVersion, Form()] = CURRENT,
    emergency: Annotated[bool, Form(description="Out-of-cycle emergency submission.")] = False,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> SubmissionOut:
    """Upload a quarterly table for one state. The file is stored and recorded before the
    `202 Accepted`; validation follows in the background (see the submission's status).

    **Who may call:** a `submitter` for its own state; the `admin` for any state.
    """
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and \
            int(length) > context.settings.max_upload_bytes + 64 * 1024:
        raise Problem(413, "too-large", "Upload too large",
                      f"The limit is {context.settings.max_upload_bytes:,} bytes.")
    meta = service.UploadMeta(
        ref_area=ref_area.value, period=period, standard_version=standard_version.value,
        filename=file.filename or "upload", content_type=file.content_type or "",
        emergency=emergency, idempotency_key=idempotency_key)
    received = service.receive_upload(session, context.store, caller, meta, file.file,
                                      context.settings.max_upload_bytes)
    submission = received.submission
    body = SubmissionOut.of(submission, service.history(session, submission))
    session.commit()  # durable before we answer; nothing below touches the database
    response.headers["Location"] = f"/api/v1/submissions/{submission.id}"
    if received.created:
        request.app.state.dispatcher.dispatch(submission.id, background)
    else:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return body


@router.get("", response_model=SubmissionPage, responses=problem_responses(401, 403))
def list_submissions(
    session: ReadDB,
    caller: Caller,
    ref_area: Annotated[RefArea | None, Query()] = None,
    period: Annotated[str | None, Query(pattern=PERIOD_PATTERN)] = None,
    status: Annotated[SubmissionStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> SubmissionPage:
    """List submissions, newest first.

    **Who may call:** `submitter`/`coordinator` (own state only), `analyst` and `admin` (all).
    """
    items, total = service.list_submissions(
        session, caller, ref_area=ref_area.value if ref_area else None, period=period,
        status=status.value if status else None, limit=limit, offset=offset)
    return SubmissionPage(items=[SubmissionOut.of(s) for s in items], total=total, limit=limit,
                          offset=offset)


@router.get("/{submission_id}", response_model=SubmissionOut,
            responses=problem_responses(401, 404))
def get_submission(session: ReadDB, caller: Caller, submission_id: SubmissionId
                   ) -> SubmissionOut:
    """One submission with its status history.

    **Who may call:** its state's `submitter`/`coordinator`, `analyst`, `admin`.
    """
    submission = service.get_visible(session, caller, submission_id)
    return SubmissionOut.of(submission, service.history(session, submission))


@router.get("/{submission_id}/revisions", response_model=list[SubmissionOut],
            responses=problem_responses(401, 404))
def list_revisions(session: ReadDB, caller: Caller, submission_id: SubmissionId
                   ) -> list[SubmissionOut]:
    """Every upload for the same state and quarter, oldest revision first.

    **Who may call:** its state's `submitter`/`coordinator`, `analyst`, `admin`.
    """
    submission = service.get_visible(session, caller, submission_id)
    return [SubmissionOut.of(s) for s in service.revisions(session, submission)]


@router.get(
    "/{submission_id}/report", response_model=ReportOut,
    responses={200: {"content": {"text/csv": {}}}, **problem_responses(401, 403, 404, 409)},
)
def get_report(
    session: DB, caller: Caller, submission_id: SubmissionId,
    format: Annotated[str | None, Query(pattern="^(json|csv)$")] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response | ReportOut:
    """The validation report as JSON, or as CSV (`?format=csv` or `Accept: text/csv`).

    **Who may call:** its state's `submitter`/`coordinator` and the `admin`; not `analyst`
    (reports quote unprotected values).
    """
    submission = service.get_visible(session, caller, submission_id)
    report = service.read_report(session, caller, submission)
    session.commit()  # the read is audited
    if report is None:
        raise Problem(409, "report-not-ready", "Report not ready",
                      f"The submission is {submission.status}; the report follows validation.")
    if format == "csv" or (format is None and accept and "text/csv" in accept):
        return PlainTextResponse(report.to_csv(), media_type="text/csv",
                                 headers={"Content-Disposition":
                                          f'attachment; filename="report-{submission_id}.csv"'})
    return ReportOut(submission_id=submission_id, **report.as_dict())  # type: ignore[arg-type]


@router.get("/{submission_id}/file", response_class=FileResponse,
            responses={200: {"content": {"application/octet-stream": {}}},
                       **problem_responses(401, 403, 404)})
def download_file(context: Context, session: DB, caller: Caller, submission_id: SubmissionId
                  ) -> FileResponse:
    """The original file, byte for byte.

    **Who may call:** its state's `submitter`/`coordinator` and the `admin`; never `analyst`.
    """
    submission = service.get_visible(session, caller, submission_id)
    path = service.open_raw_file(session, context.store, caller, submission)
    session.commit()  # the read is audited
    return FileResponse(path, filename=submission.filename,
                        media_type="application/octet-stream")
