"""How large a request a view takes, known before anything reads the request's body.

The CSRF check reads a form's body before the view runs (and Flask-WTF parses a JSON
body as a form), so a limit set inside a view comes too late. A view declares its
own limit with ``body_limit``; ``PortalRequest`` (the app's request class) applies it
as soon as the request is matched to the view, before any body is read. Views that
declare none keep ``MAX_CONTENT_LENGTH``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Request, current_app

View = TypeVar("View", bound=Callable)


def body_limit(limit: int | str) -> Callable[[View], View]:
    """Declare the largest body ``view`` takes: bytes, or the name of a setting in bytes.

    Works under or over other decorators that use ``functools.wraps``.
    """

    def declare(view: View) -> View:
        view.body_limit = limit
        return view

    return declare


class PortalRequest(Request):
    """Flask's request, whose ``max_content_length`` is the matched view's own limit."""

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is not None:
            return self._max_content_length
        if current_app:
            view = current_app.view_functions.get(self.endpoint or "")
            limit = getattr(view, "body_limit", None)
            if isinstance(limit, str):
                return current_app.config[limit]
            if limit is not None:
                return limit
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value
