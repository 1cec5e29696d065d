"""A winner's photo made fit for the public page (decoded, resized, re-encoded without its
metadata) by the worker, not in the request.

The page checks the upload by its content and the winner's step at once (a refusal is
shown next to the field), keeps the file as sent under ``photos/incoming/`` in the
storage and enqueues ``process_photo``, which makes it fit, stores and sets it
(``campaign.winners.add_photo``), then removes the file as sent. A photo the job cannot
make fit (damaged past what the page checks) or may no longer set is not published, and
the winner's history says so (``photo_refused``).
"""

from __future__ import annotations

import logging
import secrets

from portal.campaign import winners
from portal.campaign.imports import actor_again
from portal.models import Winner, db
from portal.services import jobs, storage, uploads

log = logging.getLogger(__name__)

INCOMING = "photos/incoming/"


def receive(winner: Winner, data: bytes) -> str:
    """Check a photo as sent (its content, the winner's step: ``UploadRefused``,
    ``WinnerRefused``) and keep it for the job; its storage key."""
    checked = uploads.check(data, "photo", allowed=winners.PHOTO_KINDS)
    winners.check_photo_allowed(winner)
    key = f"{INCOMING}{winner.id}-{secrets.token_hex(8)}.{checked.kind}"
    storage.current().put(key, data)
    return key


@jobs.task()
def process_photo(winner_id: int, key: str, actor_id: int | None, ip: str) -> None:
    """Make the photo kept under ``key`` fit for the public page and set it."""
    files = storage.current()
    try:
        winner = db.session.get(Winner, winner_id)
        if winner is None:
            return
        actor = actor_again(actor_id, ip)
        try:
            winners.add_photo(winner, files.read(key), actor=actor)
        except (uploads.UploadRefused, winners.WinnerRefused, OSError, ValueError) as refusal:
            # checked by the page, refused here all the same (damaged past its header, or
            # the winner's step changed meanwhile): said in the winner's history
            db.session.rollback()
            cause = "step" if isinstance(refusal, winners.WinnerRefused) else "unreadable"
            log.warning("winner %s: photo refused by the job (%s)", winner_id, cause)
            winner = db.session.get(Winner, winner_id)
            winners.record_event(winner, "photo_refused", actor, details={"cause": cause})
            db.session.commit()
    finally:
        files.delete(key)
