"""The ChannelExplorer TensorBoard plugin: `get_plugin_apps` and thin routes.

TensorBoard imports this module through the ``tensorboard_plugins`` entry
point; an ImportError here would take all of TensorBoard down, so module-level
imports are limited to TensorBoard, numpy, werkzeug and this package's light
modules. The views (scikit-learn, scipy, umap) and Pillow are imported lazily
by the handlers.

Each route does three things, like TensorBoard's own plugins: parse its query
(`queries`), call its handler (`handlers`), respond (`responses.json_route`
turns the body into JSON, PNG or an error). Errors are JSON
``{"error": message, "parameter": name}``: 400 for bad, missing or unknown
parameters (including unknown runs and layers), 404 for valid requests whose
data is absent or corrupt. The routes are documented in ``http_api.md``.

To add a route:

1. a query dataclass in ``queries.py`` with a ``parse(args)`` classmethod
   (reuse ``LayerQuery.parse`` and the ``param_*`` helpers);
2. a handler ``(ctx, query) -> body`` in a module of ``handlers/``, reading
   through ``ctx.reader``, caching with ``ctx.reader.cache_key`` and
   ``ctx.cached`` / ``ctx.view_json``, raising `errors` classes;
3. a three-line method here, and its entry in `get_plugin_apps`::

       @json_route
       def suspects_route(self, ctx, args):
           return suspects.suspects(ctx, queries.SuspectsQuery.parse(args))

4. a section in ``http_api.md`` (a test checks every route is documented).
"""

from __future__ import annotations

import logging
import os
import threading
import time

from tensorboard import context as tb_context
from tensorboard import plugin_util
from tensorboard.plugins import base_plugin
from werkzeug import wrappers

from tensorboard_plugin_channelexplorer import metadata, queries, static_files, warmup
from tensorboard_plugin_channelexplorer.cache import LRUCache
from tensorboard_plugin_channelexplorer.compute_pool import ComputePool
from tensorboard_plugin_channelexplorer.handlers import across, data, step_views
from tensorboard_plugin_channelexplorer.handlers import channels as channel_views
from tensorboard_plugin_channelexplorer.handlers import suspects as suspects_handler
from tensorboard_plugin_channelexplorer.handlers.context import HandlerContext
from tensorboard_plugin_channelexplorer.reader import Reader
from tensorboard_plugin_channelexplorer.responses import json_route
from tensorboard_plugin_channelexplorer.static_files import STATIC_DIR  # noqa: F401 - former home of the name

logger = logging.getLogger(__name__)

# Set to "1" to skip the UMAP warm-up thread (tests, short-lived processes).
NO_WARMUP_ENV = "CHANNELEXPLORER_NO_WARMUP"

_IS_ACTIVE_TTL_S = 10.0
# Seconds a data provider listing is reused across requests (see Reader).
LIST_TTL_S = 1.0


class ChannelExplorerPlugin(base_plugin.TBPlugin):
    """TensorBoard backend of the ChannelExplorer tab."""

    plugin_name = metadata.PLUGIN_NAME

    def __init__(self, context):
        """Instantiates the plugin.

        Args:
            context: a `base_plugin.TBContext`; only ``data_provider`` and
                ``sampling_hints`` are used.
        """
        self._data_provider = context.data_provider
        hint = (context.sampling_hints or {}).get(self.plugin_name)
        # 0 or None: everything the loader kept.
        self._downsample = hint if isinstance(hint, int) and hint > 0 else None
        self._cache = LRUCache()
        self._pool = ComputePool()  # CHANNELEXPLORER_COMPUTE_WORKERS view computations at once
        self._warned: set = set()
        self._active = (0.0, False)
        self._active_lock = threading.Lock()
        if os.environ.get(NO_WARMUP_ENV, "") not in ("1", "true"):
            warmup.start()  # off the request path: see warmup.py

    # -------------------------------------------------------------- TBPlugin
    def is_active(self):
        """True if any run has ChannelExplorer data (cached for a few seconds)."""
        if self._data_provider is None:
            return False
        with self._active_lock:
            stamp, active = self._active
            if time.monotonic() - stamp < _IS_ACTIVE_TTL_S:
                return active
        try:
            plugins = self._data_provider.list_plugins(tb_context.RequestContext(), experiment_id="")
            active = self.plugin_name in plugins
        except Exception:  # noqa: BLE001 - a failing listing just means "inactive for now"
            logger.debug("ChannelExplorer: list_plugins failed", exc_info=True)
            active = False
        with self._active_lock:
            self._active = (time.monotonic(), active)
        return active

    def frontend_metadata(self):
        return base_plugin.FrontendMetadata(es_module_path="/index.js", tab_name="ChannelExplorer")

    def get_plugin_apps(self):
        return {
            "/index.js": self.index_js_route,
            "/static/*": self.static_route,
            "/runs": self.runs_route,
            "/layers": self.layers_route,
            "/graph": self.graph_route,
            "/inputs": self.inputs_route,
            "/summaries": self.summaries_route,
            "/thumbnail": self.thumbnail_route,
            "/scatter": self.scatter_route,
            "/scatter_progress": self.scatter_progress_route,
            "/jaccard": self.jaccard_route,
            "/jaccard_cell": self.jaccard_cell_route,
            "/hierarchy": self.hierarchy_route,
            "/heatmap": self.heatmap_route,
            "/overlay": self.overlay_route,
            "/dataset": self.dataset_route,
            "/suspects": self.suspects_route,
            "/timeline": self.timeline_route,
            "/trajectory": self.trajectory_route,
            "/diff": self.diff_route,
            "/channel_clusters": self.channel_clusters_route,
            "/channel_card": self.channel_card_route,
            "/channel_embedding": self.channel_embedding_route,
            "/channel_edges": self.channel_edges_route,
        }

    def _handler_context(self, request) -> HandlerContext:
        """The handler context of one request: a fresh `Reader` over the shared cache."""
        reader = Reader(
            self._data_provider,
            experiment_id=plugin_util.experiment_id(request.environ),
            ctx=plugin_util.context(request.environ),
            cache=self._cache,
            downsample=self._downsample,
            warned=self._warned,
            list_ttl=LIST_TTL_S,
        )
        return HandlerContext(reader=reader, cache=self._cache, run_compute=self._pool.run, warned=self._warned)

    # ---------------------------------------------------------------- static
    @wrappers.Request.application
    def index_js_route(self, request):
        """Serves the frontend entry module ``static/index.js``."""
        return static_files.serve(request, "index.js")

    @wrappers.Request.application
    def static_route(self, request):
        """Serves files under ``static/``, refusing paths that leave it."""
        return static_files.serve(request, static_files.relative_path(request))

    # ---------------------------------------------------------------- routes
    @json_route(views=False)
    def runs_route(self, ctx, args):
        """``/runs``: runs, steps and downsampling report."""
        return data.runs(ctx)

    @json_route(views=False)
    def layers_route(self, ctx, args):
        """``/layers``: the manifest of a step."""
        return data.layers(ctx, queries.StepQuery.parse(args))

    @json_route(views=False)
    def graph_route(self, ctx, args):
        """``/graph``: the model graph JSON."""
        return data.graph(ctx, queries.StepQuery.parse(args))

    @json_route(views=False)
    def inputs_route(self, ctx, args):
        """``/inputs``: labels, sample ids, predictions of the logged inputs."""
        return data.inputs(ctx, queries.StepQuery.parse(args))

    @json_route(views=False)
    def summaries_route(self, ctx, args):
        """``/summaries``: one ``[N, C]`` summary matrix."""
        return data.summaries(ctx, queries.LayerQuery.parse(args, fn_default="otsu"))

    @json_route(views=False)
    def thumbnail_route(self, ctx, args):
        """``/thumbnail``: PNG of one input."""
        return data.thumbnail(ctx, queries.ThumbnailQuery.parse(args))

    @json_route
    def scatter_route(self, ctx, args):
        """``/scatter``: 2-D embedding, clusters and outliers (paper V-D)."""
        return step_views.scatter(ctx, queries.ScatterQuery.parse(args))

    @json_route(views=False)
    def scatter_progress_route(self, ctx, args):
        """``/scatter_progress``: how far the ``/scatter`` computation with the same parameters is."""
        return step_views.scatter_progress(ctx, queries.ScatterQuery.parse(args))

    @json_route
    def jaccard_route(self, ctx, args):
        """``/jaccard``: pairwise Jaccard similarity of top channels (paper V-E)."""
        return step_views.jaccard(ctx, queries.JaccardQuery.parse(args))

    @json_route
    def jaccard_cell_route(self, ctx, args):
        """``/jaccard_cell``: shared top channels of two inputs."""
        return step_views.jaccard_cell(ctx, queries.JaccardCellQuery.parse(args))

    @json_route
    def hierarchy_route(self, ctx, args):
        """``/hierarchy``: confusion hierarchy of classes (paper V-E)."""
        return step_views.hierarchy(ctx, queries.HierarchyQuery.parse(args))

    @json_route
    def heatmap_route(self, ctx, args):
        """``/heatmap``: channel x input heatmap, channels ordered (paper V-F)."""
        return step_views.heatmap(ctx, queries.HeatmapQuery.parse(args))

    @json_route
    def overlay_route(self, ctx, args):
        """``/overlay``: PNG of an activation map blended over its input (Eq. 2)."""
        return step_views.overlay(ctx, queries.OverlayQuery.parse(args))

    @json_route
    def dataset_route(self, ctx, args):
        """``/dataset``: class similarity to a reference class across layers, predictions (paper V-A)."""
        return step_views.dataset(ctx, queries.DatasetQuery.parse(args))

    @json_route
    def suspects_route(self, ctx, args):
        """``/suspects``: ranked suspect labels per layer."""
        return suspects_handler.suspects(ctx, suspects_handler.SuspectsQuery.parse(args))

    @json_route
    def timeline_route(self, ctx, args):
        """``/timeline``: separability score per layer and step, accuracy per step, for one or more runs."""
        return across.timeline(ctx, queries.TimelineQuery.parse(args))

    @json_route
    def trajectory_route(self, ctx, args):
        """``/trajectory``: embeddings of the same inputs at several steps, Procrustes-aligned."""
        return across.trajectory(ctx, queries.TrajectoryQuery.parse(args))

    @json_route
    def diff_route(self, ctx, args):
        """``/diff``: Jaccard difference and channel rank changes between two steps or runs of a layer."""
        return across.diff(ctx, queries.DiffQuery.parse(args))

    @json_route
    def channel_clusters_route(self, ctx, args):
        """``/channel_clusters``: clusters of a layer's channels, seriation and treemap (CNNVis)."""
        return channel_views.channel_clusters(ctx, channel_views.ChannelClustersQuery.parse(args))

    @json_route
    def channel_card_route(self, ctx, args):
        """``/channel_card``: one channel's top inputs, class profile, ranks, importance and history."""
        return channel_views.channel_card(ctx, channel_views.ChannelCardQuery.parse(args))

    @json_route
    def channel_embedding_route(self, ctx, args):
        """``/channel_embedding``: the layer's channels as points in 2-D (ReVACNN)."""
        return channel_views.channel_embedding(ctx, channel_views.ChannelEmbeddingQuery.parse(args))

    @json_route
    def channel_edges_route(self, ctx, args):
        """``/channel_edges``: bundled weights between the channel clusters of two layers."""
        return channel_views.channel_edges(ctx, channel_views.ChannelEdgesQuery.parse(args))
