"""Pure-numpy views of ChannelExplorer (paper Sect. V-A, V-D to V-F).

Each module takes numpy arrays (channel summaries ``S[N, C]``, class ids
``labels[N]``) and returns JSON-ready dicts (python lists, ints, floats; no
NaN) that ``plugin.py`` serves as documented in ``http_api.md``. Nothing here
knows about HTTP, TensorBoard or torch. Invalid arguments raise ``ValueError``
with a message that names the parameter.

Modules: ``xmeans`` (X-Means clustering), ``scatter`` (DR + clusters +
outliers), ``jaccard`` (Eq. 1), ``hierarchy`` (confusion hierarchy),
``heatmap`` (orderings, Eq. 3), ``overlay`` (Eq. 2), ``dataset`` (dataset view
and representative inputs). UMAP (numba) is imported only when used.
"""

from . import dataset, heatmap, hierarchy, jaccard, overlay, scatter, xmeans

__all__ = ["dataset", "heatmap", "hierarchy", "jaccard", "overlay", "scatter", "xmeans"]
