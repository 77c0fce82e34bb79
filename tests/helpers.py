"""Helpers shared by the route tests: the route prefix, an in-process client, GET helpers."""

from __future__ import annotations

import json
import urllib.parse

PREFIX = "/data/plugin/channelexplorer"


def make_client(dp, hint: int = 0):
    """The plugin over data provider `dp`, behind TensorBoard's own WSGI app.

    Args:
        dp: a TensorBoard data provider.
        hint: the ``channelexplorer`` sampling hint (0: keep everything).

    Returns:
        ``(plugin, app, client)``: the plugin, the WSGI app and a werkzeug
        test client over it.
    """
    from tensorboard.backend import application
    from tensorboard.plugins import base_plugin
    from werkzeug import test as werkzeug_test
    from werkzeug import wrappers

    from tensorboard_plugin_channelexplorer import metadata
    from tensorboard_plugin_channelexplorer.plugin import ChannelExplorerPlugin

    ctx = base_plugin.TBContext(data_provider=dp, sampling_hints={metadata.PLUGIN_NAME: hint})
    plugin = ChannelExplorerPlugin(ctx)
    app = application.TensorBoardWSGI([plugin])
    return plugin, app, werkzeug_test.Client(app, wrappers.Response)


def route_url(route: str, **params) -> str:
    """``PREFIX + route + ?query``; None values are left out, lists repeat the parameter."""
    query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None}, doseq=True)
    return f"{PREFIX}{route}?{query}" if query else f"{PREFIX}{route}"


def get(client, route: str, **params):
    """GET `route` with `params` through a werkzeug test client."""
    return client.get(route_url(route, **params))


def get_json(client, route: str, status: int = 200, **params) -> dict:
    """GET `route` and return its JSON body, asserting the status and content type."""
    resp = get(client, route, **params)
    assert resp.status_code == status, (route, params, resp.status_code, resp.get_data(as_text=True)[:500])
    assert resp.headers["Content-Type"].startswith("application/json")
    return json.loads(resp.get_data(as_text=True))


def more_clients(app, n: int) -> list:
    """`n` werkzeug test clients over one WSGI `app`, for concurrent requests to one plugin."""
    from werkzeug import test as werkzeug_test
    from werkzeug import wrappers

    return [werkzeug_test.Client(app, wrappers.Response) for _ in range(n)]


def get_status_body(client, route: str, **params) -> tuple:
    """``(status, body)`` of a GET: the body parsed when it is JSON, raw bytes otherwise."""
    resp = get(client, route, **params)
    if resp.headers["Content-Type"].startswith("application/json"):
        return resp.status_code, json.loads(resp.get_data())
    return resp.status_code, resp.get_data()
