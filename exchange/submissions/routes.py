"""``/api/v1/submissions``: upload quarterly tables, follow their status, read reports.

Routes are thin: parse, authorize (``exchange.auth.policy``), call a service, respond. The
request's unit of work commits after the route returns and before the response is sent; the
hand-off to the queue runs after that, from the outbox.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import (
    APIRouter,
    BackgroundTasks,
    Depends,
    File,
    Form,
    Header,
    Path,
    Query,
    Response,
    UploadFile,
)
from fastapi.responses import FileResponse, PlainTextResponse

from exchange.auth.policy import Permission, allows, who_may
from exchange.auth.principal import Principal
from exchange.core.outbox import relay
from exchange.core.problems import Problem
from exchange.submissions import intake, service
from exchange.submissions.schemas import ReportOut, SubmissionOut, SubmissionPage
from exchange.submissions.status import SubmissionStatus
from exchange.web.deps import DB, Context, ReadDB, allowed, problem_responses
from exchange.web.enums import PERIOD_PATTERN, RefArea, StandardVersion
from standards.loader import CURRENT_VERSION

router = APIRouter(prefix="/api/v1/submissions", tags=["submissions"])
SubmissionId = Annotated[int, Path(ge=1, le=2**62, description="Submission id.")]
CURRENT = StandardVersion(CURRENT_VERSION)
Submitter = Annotated[Principal, Depends(allowed(Permission.SUBMIT))]
Viewer = Annotated[Principal, Depends(allowed(Permission.VIEW_SUBMISSIONS))]
RawReader = Annotated[Principal, Depends(allowed(Permission.READ_RAW))]


@router.post(
    "", status_code=202, response_model=SubmissionOut,
    responses={200: {"model": SubmissionOut,
                     "description": "Identical upload recognised; nothing new was created."},
               **problem_responses(401, 403, 413, 415, 422, 429)},
    description="Upload a quarterly table for one state, or a weekly table of the emergency "
    "series (period YYYY-Www). The file is stored and recorded "
    "before the `202 Accepted`; validation follows in the background (see the submission's "
    "status).\n\n" + who_may(Permission.SUBMIT),
)
def create_submission(
    response: Response,
    context: Context,
    session: DB,
    caller: Submitter,
    background: BackgroundTasks,
    file: Annotated[UploadFile, File(description="CSV, SDMX-CSV 1.0 or XLSX table.")],
    ref_area: Annotated[RefArea, Form(description="Declared reporting state.")],
    period: Annotated[str, Form(pattern=PERIOD_PATTERN, description="Declared period: a "
                                "quarter, or a week for the emergency series.",
                                examples=["2026-Q3", "2026-W48"])],
    standard_version: Annotated[StandardVersion, Form()] = CURRENT,
    emergency: Annotated[bool, Form(description="Out-of-cycle emergency submission: the "
                                    "period must be a week. Weekly periods are emergency "
                                    "figures whether flagged or not.")] = False,
    rounding: Annotated[int, Form(ge=0, le=1000, description="The base the figures are "
                                  "rounded to (e.g. 5, as Eurostat publishes); 0 = not "
                                  "rounded. Breakdowns are then checked within the rounding "
                                  "tolerance.")] = 0,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> SubmissionOut:
    meta = intake.UploadMeta(
        ref_area=ref_area.value, period=period, standard_version=standard_version.value,
        filename=file.filename or "upload", content_type=file.content_type or "",
        emergency=emergency, idempotency_key=idempotency_key, rounding_base=rounding or None)
    received = intake.receive_upload(session, store=context.store, principal=caller,
                                     meta=meta, source=file.file,
                                     limit=context.settings.max_upload_bytes,
                                     limits=context.settings.read_limits())
    submission = received.submission
    session.flush()
    response.headers["Location"] = f"/api/v1/submissions/{submission.id}"
    if received.created:
        # Runs after the commit and the response: the outbox row is durable by then.
        background.add_task(relay, context.database_url, context.queue,
                            submission_ids=[submission.id])
    else:
        response.status_code = 200
        response.headers["Idempotent-Replayed"] = "true"
    return SubmissionOut.of(submission, service.history(session, submission),
                            reason_visible=_reads_raw(caller, submission.ref_area))


@router.get("", response_model=SubmissionPage, responses=problem_responses(401, 403),
            description="List submissions, newest first.\n\n"
            + who_may(Permission.VIEW_SUBMISSIONS))
def list_submissions(
    session: ReadDB,
    caller: Viewer,
    ref_area: Annotated[RefArea | None, Query()] = None,
    period: Annotated[str | None, Query(pattern=PERIOD_PATTERN)] = None,
    status: Annotated[SubmissionStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**9)] = 0,
) -> SubmissionPage:
    items, total = service.list_submissions(
        session, caller, ref_area=ref_area.value if ref_area else None, period=period,
        status=status.value if status else None, limit=limit, offset=offset)
    return SubmissionPage(
        items=[SubmissionOut.of(s, reason_visible=_reads_raw(caller, s.ref_area))
               for s in items], total=total, limit=limit, offset=offset)


@router.get("/{submission_id}", response_model=SubmissionOut,
            responses=problem_responses(401, 403, 404),
            description="One submission with its status history. Another state's submission "
            "answers 404.\n\n" + who_may(Permission.VIEW_SUBMISSIONS))
def get_submission(session: ReadDB, caller: Viewer, submission_id: SubmissionId
                   ) -> SubmissionOut:
    submission = service.get_visible(session, caller, submission_id)
    return SubmissionOut.of(submission, service.history(session, submission),
                            reason_visible=_reads_raw(caller, submission.ref_area))


@router.get("/{submission_id}/revisions", response_model=list[SubmissionOut],
            responses=problem_responses(401, 403, 404),
            description="Every upload for the same state and quarter, oldest revision first."
            "\n\n" + who_may(Permission.VIEW_SUBMISSIONS))
def list_revisions(session: ReadDB, caller: Viewer, submission_id: SubmissionId
                   ) -> list[SubmissionOut]:
    submission = service.get_visible(session, caller, submission_id)
    return [SubmissionOut.of(s, reason_visible=_reads_raw(caller, s.ref_area))
            for s in service.revisions(session, submission)]


@router.get(
    "/{submission_id}/report", response_model=ReportOut,
    responses={200: {"content": {"text/csv": {}}}, **problem_responses(401, 403, 404, 409)},
    description="The validation report as JSON, or as CSV (`?format=csv` or "
    "`Accept: text/csv`). Reports quote unprotected values, so the regional task force does "
    "not read them.\n\n" + who_may(Permission.READ_RAW),
)
def get_report(
    session: DB, caller: RawReader, submission_id: SubmissionId,
    format: Annotated[str | None, Query(pattern="^(json|csv)$")] = None,
    accept: Annotated[str | None, Header()] = None,
) -> Response | ReportOut:
    submission = service.get_visible(session, caller, submission_id)
    report = service.read_report(session, caller, submission)
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
                       **problem_responses(401, 403, 404)},
            description="The original file, byte for byte.\n\n" + who_may(Permission.READ_RAW))
def download_file(context: Context, session: DB, caller: RawReader,
                  submission_id: SubmissionId) -> FileResponse:
    submission = service.get_visible(session, caller, submission_id)
    path = service.open_raw_file(session, context.store, caller, submission)
    return FileResponse(path, filename=intake.safe_filename(submission.filename),
                        media_type="application/octet-stream")


def _reads_raw(caller: Principal, ref_area: str) -> bool:
    """Whether the caller reads the state's raw data, and so a send-back's reason."""
    return allows(caller, Permission.READ_RAW, ref_area)
