"""The floor of benchmarks/public_bench.py: a bare WSGI app that serves, for each path,
the status, headers and bytes the portal answered (read from the JSON file named by
``BARE_PAGES``), under the same gunicorn settings: ``gunicorn -c gunicorn.conf.py
--pythonpath benchmarks bare_app:app``."""

from __future__ import annotations

import base64
import json
import os

with open(os.environ["BARE_PAGES"], encoding="utf-8") as handle:
    PAGES = {
        path: (page["status"], [tuple(h) for h in page["headers"]], base64.b64decode(page["body"]))
        for path, page in json.load(handle).items()
    }
NOT_FOUND = (
    "404 NOT FOUND",
    [("Content-Type", "text/plain"), ("Content-Length", "10")],
    b"not found\n",
)


def app(environ, start_response):
    status, headers, body = PAGES.get(environ.get("PATH_INFO", ""), NOT_FOUND)
    start_response(status, headers)
    return [body]
