"""Serves the frontend bundle under ``static/``, refusing every path that leaves it."""

from __future__ import annotations

import mimetypes
import os

from tensorboard.backend import http_util
from werkzeug.security import safe_join

from tensorboard_plugin_channelexplorer import metadata
from tensorboard_plugin_channelexplorer.responses import error_response

STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")

_CONTENT_TYPES = {
    ".js": "application/javascript",
    ".mjs": "application/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".map": "application/json",
    ".html": "text/html",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".txt": "text/plain",
    ".wasm": "application/wasm",
}


def relative_path(request) -> str:
    """The part of a ``/static/*`` request path below ``static/`` ("" when absent)."""
    marker = "/" + metadata.PLUGIN_NAME + "/static/"
    path = request.path
    return path.split(marker, 1)[1] if marker in path else ""


def serve(request, rel: str):
    """The response for file `rel` of `STATIC_DIR`: the file, or JSON 400 (bad path) / 404 (no such file)."""
    # NUL bytes make os.path raise; backslashes are separators elsewhere: refuse both.
    joined = safe_join(STATIC_DIR, rel) if rel and "\x00" not in rel and "\\" not in rel else None
    if joined is not None:
        real = os.path.realpath(joined)
        root = os.path.realpath(STATIC_DIR)
        if not real.startswith(root + os.sep):
            joined = None
    if joined is None:
        return error_response(request, f"invalid static path {rel!r}", "path", 400)
    if not os.path.isfile(joined):
        return error_response(request, f"no static file {rel!r}", "path", 404)
    ext = os.path.splitext(joined)[1].lower()
    mimetype = _CONTENT_TYPES.get(ext) or mimetypes.guess_type(joined)[0] or "application/octet-stream"
    with open(joined, "rb") as f:
        data = f.read()
    return http_util.Respond(request, data, mimetype)

