"""Sending what the outbox holds, on the record: every run that handled mail is audited."""

from __future__ import annotations

from datetime import datetime

from portal.campaign import audit
from portal.models import db
from portal.services.mail import SendReport, send_pending


def send_due(
    actor: audit.Actor, *, batch_size: int = 50, now: datetime | None = None
) -> SendReport:
    """Send up to ``batch_size`` due messages; a run that handled any is in the audit trail."""
    report = send_pending(batch_size=batch_size, now=now)
    if report.handled:
        audit.record(
            "mail.run",
            details={"sent": report.sent, "retry": report.retry, "failed": report.failed},
            object_type="outbox",
            actor=actor,
        )
        db.session.commit()
    return report
