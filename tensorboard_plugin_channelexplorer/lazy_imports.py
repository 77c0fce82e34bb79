"""Serialized first imports of the views and the libraries they load lazily.

The plugin entry module stays light, so scikit-learn, scipy, openTSNE and
umap are imported on the first request that needs them. Two threads that
import such packages at the same moment (request threads, compute-pool
workers and the warm-up thread do) can be handed a partially initialized
module: Python's per-module import locks detect the cross-thread cycle and
let one thread see the other's unfinished module, which reached users as a
500 from ``/dataset`` and ``/scatter``. Every view route therefore calls
`ensure_views_loaded` first, and the heavy embedding packages go through
`import_module`; both import under one process-wide lock. Once loaded, a call
is a flag check or a ``sys.modules`` lookup. Routes that only read stored data
(``/runs``, ``/graph``...) import nothing at request time and skip the wait
(``json_route(views=False)``), and the warm-up thread calls
`ensure_views_loaded` as soon as TensorBoard starts.
"""

from __future__ import annotations

import importlib
import sys
import threading

# Reentrant: importing a view module may itself call `import_module`.
_lock = threading.RLock()
_views_loaded = False

# What the views import inside their functions, plus the view modules.
VIEW_MODULES = (
    "scipy.cluster.hierarchy",
    "scipy.linalg",
    "scipy.spatial.distance",
    "sklearn.cluster",
    "sklearn.decomposition",
    "sklearn.manifold",
    "sklearn.metrics",
    "sklearn.neighbors",
    "sklearn.utils.extmath",
    "tensorboard_plugin_channelexplorer.views.align",
    "tensorboard_plugin_channelexplorer.views.channel_edges",
    "tensorboard_plugin_channelexplorer.views.channels",
    "tensorboard_plugin_channelexplorer.views.dataset",
    "tensorboard_plugin_channelexplorer.views.heatmap",
    "tensorboard_plugin_channelexplorer.views.hierarchy",
    "tensorboard_plugin_channelexplorer.views.jaccard",
    "tensorboard_plugin_channelexplorer.views.overlay",
    "tensorboard_plugin_channelexplorer.views.sampling",
    "tensorboard_plugin_channelexplorer.views.scatter",
    "tensorboard_plugin_channelexplorer.views.suspects",
    "tensorboard_plugin_channelexplorer.views.timeline",
    "tensorboard_plugin_channelexplorer.views.treemap",
    "tensorboard_plugin_channelexplorer.views.xmeans",
)


def import_module(name: str):
    """Returns module `name`, importing it under the process-wide import lock when it is new."""
    module = sys.modules.get(name)
    if module is not None:
        return module
    with _lock:
        return importlib.import_module(name)


def ensure_views_loaded() -> None:
    """Imports `VIEW_MODULES` once, under the lock (later calls return at once)."""
    global _views_loaded
    if _views_loaded:
        return
    with _lock:
        if not _views_loaded:
            for name in VIEW_MODULES:
                importlib.import_module(name)
            _views_loaded = True
