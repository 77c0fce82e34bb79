"""HTTP responses of the routes: JSON bodies, and errors mapped to their codes.

`json_route` wraps a route method ``(self, ctx, args) -> body``. `body` is
a JSON-able object, `encoding.RawJSON`, or ``(bytes, mimetype)``. Errors of
`errors` become JSON ``{"error": message, "parameter": name}`` with the
error's ``http_code``: 400 for bad parameters, 404 for absent or corrupt
data (each corrupt record logged once). Anything else is a bug and a logged
JSON 500, never a crash.
"""

from __future__ import annotations

import functools
import logging

from tensorboard.backend import http_util
from werkzeug import wrappers

from tensorboard_plugin_channelexplorer import errors, lazy_imports
from tensorboard_plugin_channelexplorer.encoding import RawJSON, dumps

logger = logging.getLogger(__name__)


def json_response(request, obj, code: int = 200):
    """A JSON response of `obj` (see `encoding.dumps`)."""
    return http_util.Respond(request, dumps(obj), "application/json", code=code)


def error_response(request, message: str, parameter: str | None, code: int):
    """The JSON error body ``{"error": message, "parameter": parameter}`` with HTTP `code`."""
    return json_response(request, {"error": message, "parameter": parameter}, code=code)


def respond(request, body):
    """The response of a route's `body`: ``(bytes, mimetype)``, `RawJSON` or a JSON-able object."""
    if isinstance(body, tuple):
        data, mimetype = body
        return http_util.Respond(request, data, mimetype)
    if isinstance(body, RawJSON):
        return http_util.Respond(request, body.text, "application/json")
    return json_response(request, body)


def log_corrupt_once(warned: set, exc: errors.CorruptDataError) -> None:
    """Logs a corrupt record once per distinct message (the frontend re-requests; the log should not flood)."""
    key = ("corrupt", str(exc))
    if key not in warned:
        warned.add(key)
        logger.warning("ChannelExplorer: %s", exc)


def error_for(request, exc: Exception, warned: set):
    """The JSON error response of an exception raised while serving `request`."""
    if isinstance(exc, errors.CorruptDataError):
        log_corrupt_once(warned, exc)
        return error_response(request, exc.public_message, None, exc.http_code)
    if isinstance(exc, (errors.InvalidArgumentError, errors.NotFoundError)):
        return error_response(request, exc.public_message, exc.parameter, exc.http_code)
    logger.error("ChannelExplorer: unexpected error serving %s", request.full_path, exc_info=exc)
    return error_response(request, f"internal error: {type(exc).__name__}: {exc}", None, 500)


def json_route(handler=None, *, views: bool = True):
    """Wraps a ``(self, ctx, args) -> body`` method into a WSGI route (see the module docstring).

    The plugin provides ``self._handler_context(request)`` (a per-request
    `handlers.HandlerContext`)
    and ``self._warned`` (the set behind `log_corrupt_once`).

    Args:
        handler: the route method (``@json_route``), or None to take options
            (``@json_route(views=False)``).
        views: the route computes views, so it first waits for
            `lazy_imports.ensure_views_loaded` (about a second of imports, once
            per process). False for routes that only read stored data
            (``/runs``, ``/graph``...) and import nothing at request time:
            the tab's first paint does not wait for scikit-learn.
    """
    if handler is None:
        return functools.partial(json_route, views=views)

    @functools.wraps(handler)
    @wrappers.Request.application
    def route(self, request):
        try:
            if views:
                lazy_imports.ensure_views_loaded()
            body = handler(self, self._handler_context(request), request.args)
        except Exception as exc:  # noqa: BLE001 - mapped to 400/404, or a logged JSON 500 as a last resort
            return error_for(request, exc, self._warned)
        return respond(request, body)

    return route
