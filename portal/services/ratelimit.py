"""Rate limits counted in the database, so that they hold across worker processes."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from portal.models import RateLimitHit, db, utcnow


def allow(
    bucket: str, key: str, limit: int, window: timedelta, now: datetime | None = None
) -> bool:
    """Count one request of ``key`` in ``bucket``; False when ``limit`` were already made in ``window``.

    A refused request is not counted. Hits older than the window are deleted as we go.
    The caller commits.
    """
    now = now or utcnow()
    since = now - window
    db.session.execute(
        sa.delete(RateLimitHit).where(
            RateLimitHit.bucket == bucket, RateLimitHit.key == key, RateLimitHit.at < since
        )
    )
    recent = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(RateLimitHit)
        .where(RateLimitHit.bucket == bucket, RateLimitHit.key == key, RateLimitHit.at >= since)
    )
    if recent >= limit:
        return False
    db.session.add(RateLimitHit(bucket=bucket, key=key, at=now))
    return True
