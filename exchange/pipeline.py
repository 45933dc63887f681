"""The processing entry point that a background task or a worker calls for one submission."""

from __future__ import annotations

import logging
from pathlib import Path

from exchange.db import session_scope
from exchange.models import Submission, SubmissionStatus
from exchange.storage import FileStore
from exchange.submissions import validate_submission

log = logging.getLogger("mmx.pipeline")


def process_submission(database_url: str, store_root: Path, submission_id: int) -> str:
    """Validate a stored submission and record the verdict; returns the resulting status.

    Safe to call more than once for the same id: each step is idempotent.
    """
    with session_scope(database_url) as session:
        submission: Submission = validate_submission(session, FileStore(store_root),
                                                     submission_id)
        status = SubmissionStatus(submission.status)
    log.info("submission %s: %s", submission_id, status.value,
             extra={"submission_id": submission_id})
    return status.value
