"""Pure-numpy views of ChannelExplorer (paper Sect. V-A, V-D to V-F).

Each module takes numpy arrays (channel summaries ``S[N, C]``, class ids
``labels[N]``) and returns JSON-ready dicts (python lists, ints, floats; no
NaN) that ``plugin.py`` serves as documented in ``http_api.md``. Nothing here
knows about HTTP, TensorBoard or torch. Invalid arguments raise ``ValueError``
with a message that names the parameter.

Modules: ``xmeans`` (X-Means clustering), ``scatter`` (DR + clusters +
outliers), ``jaccard`` (Eq. 1), ``hierarchy`` (confusion hierarchy),
``heatmap`` (orderings, Eq. 3), ``overlay`` (Eq. 2), ``dataset`` (dataset view
and representative inputs), ``timeline`` (separability, trajectories,
diffs), ``suspects``, ``channels``. Submodules load on first use
(``views.scatter`` or ``from ...views import scatter``): the writer's
compact record needs only ``timeline``'s numpy k-NN score, and importing the
package must not pull in scikit-learn and scipy (~1 s) for it.
"""

import importlib

__all__ = ["channels", "dataset", "heatmap", "hierarchy", "jaccard", "overlay", "scatter", "suspects", "timeline",
           "xmeans"]


def __getattr__(name: str):
    if name in __all__:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
