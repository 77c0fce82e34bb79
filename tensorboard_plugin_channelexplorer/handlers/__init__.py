"""Handlers of the HTTP routes: what each route does once its query is parsed.

A handler is a function ``(ctx: HandlerContext, query) -> body``: it reads
through ``ctx.reader``, checks what needs the data (``k`` against ``N``, the
N x N cap), computes through ``ctx`` (cache, native-thread caps) and returns
a JSON-able body, an `encoding.RawJSON`, or ``(bytes, mimetype)``. Handlers
know nothing of HTTP: errors are raised as `errors` classes and mapped by
`responses.json_route`.

* `handlers.data`: runs, layers, graph, inputs, summaries, thumbnails;
* `handlers.step_views`: the views of one step (scatter, Jaccard, hierarchy,
  heatmap, overlay, dataset);
* `handlers.across`: views across steps and runs (timeline, trajectory, diff).
"""

from tensorboard_plugin_channelexplorer.handlers.context import HandlerContext

__all__ = ["HandlerContext"]
