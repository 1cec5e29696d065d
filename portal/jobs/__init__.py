"""The portal's jobs, run by ``flask jobs worker`` (the queue: ``portal.services.jobs``).

A layer above the campaign and the services (import-linter keeps them from importing
it): each job takes ids and plain values, runs in an app context of its own, and calls
the same campaign code as the pages and the commands.

- ``imports``: a month's file uploaded in the browser, read from the storage; and the
  sweep that fails an import whose job was interrupted;
- ``mail``: the outbox, every minute (``flask mail send``);
- ``deadlines``: the deadline notices, each day at 09:00 in Almaty (``flask deadlines --notify``);
- ``photos``: a winner's photo made fit for the public page;
- ``egov_qr``: SIGEX's hosted QR signing, the winner's signature waited for and verified;
- ``ledger``: random.org's answers of the portal's key fetched onto the ledger, every
  hour at :17 (``flask draw ledger``).

Importing this package declares every job (the worker and the pages that enqueue do).
"""

from __future__ import annotations

from portal.jobs import deadlines, egov_qr, imports, ledger, mail, photos

__all__ = ["deadlines", "egov_qr", "imports", "ledger", "mail", "photos"]
