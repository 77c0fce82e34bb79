"""Model graph extraction: true data-flow edges between leaf modules.

The graph JSON (see ``docs/architecture.md``) has one node per called leaf
module (id = qualified name), one per model input and one for the output,
plus the merge operations that make skip connections visible: additions
(``Add``), concatenations (``Cat``, ``torch.stack`` included) and
multiplications (``Mul``), ids ``add_1``, ``cat_1``, ``mul_1``... Every other
functional operation (relu, flatten, view, getattr, dropout, ...) is
collapsed: edges pass through it.

Two ways to get the edges, tried in order:

* ``"fx"``: ``torch.fx`` symbolic tracing with leaf modules kept as leaves.
  Shapes come from one interpreted forward of the traced graph.
* ``"hooks"`` (when tracing fails, e.g. data-dependent control flow): one
  real forward with forward (pre-)hooks on the leaf modules and a
  ``TorchFunctionMode`` that follows every tensor operation between them. Each
  tensor is mapped (by object identity) to the graph nodes it was computed
  from, so functional merges (``x + identity``) are seen as ``Add`` nodes and
  every consumer is linked to its true producers. Only the path taken by this
  forward is recorded.

A merge is an add/cat/mul with at least two tensor operands that come from
at least two distinct graph nodes; ``x + 1``, ``x * x`` or ``x * x.size(0)``
is collapsed. Self-loops
(a module applied twice in a row) are dropped; a module reused in different
places gets one node and may create cycles.

The model is left as it was: the forward runs under ``torch.no_grad``, the
RNG state and all buffers (e.g. BatchNorm running statistics) are restored
afterwards, ``model.training`` is unchanged and every hook is removed, even
when the forward raises. Hooks the caller registered on the model do fire
during this forward.

The module is longer than 400 lines because both paths live here with the
one `_GraphBuilder` they share: they must agree on node ids and merge rules.
"""

from __future__ import annotations

import logging
import operator

import torch
from torch import fx
from torch.overrides import TorchFunctionMode
from torch.utils import _pytree as pytree

from tensorboard_plugin_channelexplorer.forward import hooked_forward

logger = logging.getLogger(__name__)

__all__ = ["extract_graph", "leaf_modules"]

_MERGE_NAMES = {
    "add": "Add",
    "add_": "Add",
    "iadd": "Add",
    "__add__": "Add",
    "__radd__": "Add",
    "__iadd__": "Add",
    "mul": "Mul",
    "mul_": "Mul",
    "multiply": "Mul",
    "imul": "Mul",
    "__mul__": "Mul",
    "__rmul__": "Mul",
    "__imul__": "Mul",
    "cat": "Cat",
    "concat": "Cat",
    "concatenate": "Cat",
    "stack": "Cat",
}

# Operations whose result describes a tensor but carries none of its data:
# they must not make an expression look like it depends on a graph node.
_SHAPE_METHODS = {"size", "dim", "numel", "ndimension", "nelement", "get_device", "type", "stride"}
_SHAPE_ATTRS = {"shape", "dtype", "device", "ndim", "is_cuda", "layout", "requires_grad"}


def _merge_type(name) -> str | None:
    if not isinstance(name, str):
        name = getattr(name, "__name__", None)
    return _MERGE_NAMES.get(name) if isinstance(name, str) else None


def _is_merge(srcs: list[frozenset]) -> bool:
    """Two or more tensor operands that come from two or more graph nodes."""
    return sum(1 for s in srcs if s) >= 2 and len(frozenset().union(*srcs)) >= 2


def leaf_modules(model: torch.nn.Module, leaf_types: tuple | None = None) -> dict[str, torch.nn.Module]:
    """Returns the leaf modules of a model by qualified name.

    A leaf is a module with no children, or an instance of one of
    ``leaf_types`` (whose own submodules are then not leaves). The root
    module itself is never a leaf unless it has no children.

    Args:
        model: The model.
        leaf_types: Module classes to treat as leaves even with children.

    Returns:
        Dict from qualified name to module, in registration order.
    """
    leaf_types = _check_leaf_types(leaf_types)
    out: dict[str, torch.nn.Module] = {}

    def visit(prefix: str, module: torch.nn.Module) -> None:
        children = list(module.named_children())
        if prefix and (not children or (leaf_types and isinstance(module, leaf_types))):
            out[prefix] = module
            return
        if not prefix and not children:
            out[""] = module
            return
        for name, child in children:
            visit(f"{prefix}.{name}" if prefix else name, child)

    visit("", model)
    # A module registered under two names is one leaf (first name wins).
    seen, unique = set(), {}
    for name, mod in out.items():
        if id(mod) not in seen:
            seen.add(id(mod))
            unique[name] = mod
    return unique


def _check_leaf_types(leaf_types):
    if leaf_types is None:
        return ()
    if isinstance(leaf_types, type):
        leaf_types = (leaf_types,)
    leaf_types = tuple(leaf_types)
    for t in leaf_types:
        if not (isinstance(t, type) and issubclass(t, torch.nn.Module)):
            raise ValueError(f"leaf_types must be torch.nn.Module subclasses, got {t!r}")
    return leaf_types


def _parent(qualname: str) -> str:
    return qualname.rsplit(".", 1)[0] if "." in qualname else ""


def _shape(value) -> list[int] | None:
    """Shape without the batch dim of a tensor, or of the first tensor leaf."""
    if not isinstance(value, torch.Tensor):
        leaves = [v for v in pytree.tree_leaves(value) if isinstance(v, torch.Tensor)]
        if not leaves:
            return None
        value = leaves[0]
    return [int(s) for s in value.shape[1:]]


def _n_params(module: torch.nn.Module) -> int:
    return int(sum(p.numel() for p in module.parameters()))


class _GraphBuilder:
    """Accumulates nodes and deduplicated edges in first-seen order."""

    def __init__(self, source: str):
        self.source = source
        self.nodes: dict[str, dict] = {}
        self.edges: dict[tuple[str, str], None] = {}
        self.counters: dict[str, int] = {}

    def add_node(self, node_id, type_, *, params=0, parent="", shape=None, name=None):
        if node_id not in self.nodes:
            self.nodes[node_id] = {
                "id": node_id,
                "name": name if name is not None else node_id,
                "type": type_,
                "shape": shape,
                "params": int(params),
                "logged": False,
                "parent": parent,
            }
        elif self.nodes[node_id]["shape"] is None and shape is not None:
            self.nodes[node_id]["shape"] = shape
        return node_id

    def new_merge(self, type_, parent, shape=None):
        key = type_.lower()
        self.counters[key] = self.counters.get(key, 0) + 1
        return self.add_node(f"{key}_{self.counters[key]}", type_, parent=parent, shape=shape)

    def add_edges(self, sources, target):
        for s in sources:
            if s != target:
                self.edges[(s, target)] = None

    def to_json(self) -> dict:
        # Output node last, whatever the order of discovery.
        nodes = [n for n in self.nodes.values() if n["type"] != "Output"]
        nodes += [n for n in self.nodes.values() if n["type"] == "Output"]
        return {
            "source": self.source,
            "nodes": nodes,
            "edges": [{"source": s, "target": t} for s, t in self.edges],
        }


def _input_ids(n: int) -> list[str]:
    return ["input"] if n == 1 else [f"input_{i}" for i in range(n)]


def _preserved_state(model: torch.nn.Module, example_inputs: tuple):
    """No grad; RNG state, buffers and training flags restored on exit."""
    return hooked_forward(model, restore_buffers=True, fork_rng_inputs=example_inputs)


# ---------------------------------------------------------------------------
# torch.fx path


class _LeafTracer(fx.Tracer):
    def __init__(self, leaf_ids: set[int]):
        super().__init__()
        self._leaf_ids = leaf_ids

    def is_leaf_module(self, m: torch.nn.Module, module_qualified_name: str) -> bool:
        return id(m) in self._leaf_ids


def _fx_parent(node: fx.Node) -> str:
    stack = node.meta.get("nn_module_stack")
    if not stack:
        return ""
    last = list(stack.values())[-1]
    return last[0] if isinstance(last, tuple) else str(last)


def _fx_graph(model, example_inputs, leaves: dict[str, torch.nn.Module]) -> dict:
    tracer = _LeafTracer({id(m) for m in leaves.values()})
    graph = tracer.trace(model)
    id_of_module = {id(m): name for name, m in leaves.items()}

    shapes = _fx_shapes(model, graph, example_inputs)
    b = _GraphBuilder("fx")
    placeholders = [n for n in graph.nodes if n.op == "placeholder"]
    in_ids = _input_ids(len(placeholders))
    prov: dict[fx.Node, frozenset] = {}
    empty = frozenset()

    def sources(args) -> list[frozenset]:
        out = []
        fx.node.map_arg(args, lambda n: out.append(prov.get(n, empty)))
        return out

    for node in graph.nodes:
        if node.op == "placeholder":
            i = placeholders.index(node)
            if i < len(example_inputs) or node.users:
                nid = b.add_node(in_ids[i], "Input", shape=shapes.get(node))
                prov[node] = frozenset([nid])
            else:
                prov[node] = empty
        elif node.op == "call_module":
            module = model.get_submodule(node.target)
            nid = id_of_module.get(id(module), node.target)
            b.add_node(
                nid,
                type(module).__name__,
                params=_n_params(module),
                parent=_parent(nid),
                shape=shapes.get(node),
            )
            for s in sources((node.args, node.kwargs)):
                b.add_edges(s, nid)
            prov[node] = frozenset([nid])
        elif node.op in ("call_function", "call_method"):
            name = node.target if node.op == "call_method" else getattr(node.target, "__name__", None)
            if (node.op == "call_method" and name in _SHAPE_METHODS) or (
                node.target is getattr and len(node.args) > 1 and node.args[1] in _SHAPE_ATTRS
            ):
                prov[node] = empty
                continue
            srcs = sources((node.args, node.kwargs))
            mtype = _merge_type(name)
            if node.target is operator.getitem:
                mtype = None
            if mtype and _is_merge(srcs):
                nid = b.new_merge(mtype, _fx_parent(node), shapes.get(node))
                for s in srcs:
                    b.add_edges(s, nid)
                prov[node] = frozenset([nid])
            else:
                prov[node] = frozenset().union(*srcs) if srcs else empty
        elif node.op == "get_attr":
            prov[node] = empty
        elif node.op == "output":
            nid = b.add_node("output", "Output", shape=shapes.get(node))
            for s in sources(node.args):
                b.add_edges(s, nid)
    return b.to_json()


def _fx_shapes(model, graph, example_inputs) -> dict:
    """Output shape of every fx node from one interpreted forward ({} on failure)."""
    shapes: dict = {}

    class _ShapeInterpreter(fx.Interpreter):
        def run_node(self, n):
            result = super().run_node(n)
            if n not in shapes:
                shapes[n] = _shape(result)
            return result

    try:
        gm = fx.GraphModule(model, graph)
        with _preserved_state(model, example_inputs):
            out = _ShapeInterpreter(gm).run(*example_inputs)
        for n in graph.nodes:
            if n.op == "output":
                shapes[n] = _shape(out)
    except Exception as e:  # the graph stays useful without shapes
        logger.warning("ChannelExplorer: shape pass failed (%s: %s); graph has no shapes", type(e).__name__, e)
        return {}
    return shapes


# ---------------------------------------------------------------------------
# hooks + TorchFunctionMode path


class _FlowTracker(TorchFunctionMode):
    """Maps tensors (by identity) to the graph nodes they were computed from."""

    def __init__(self, builder: _GraphBuilder):
        super().__init__()
        self.b = builder
        self.prov: dict[int, tuple[torch.Tensor, frozenset]] = {}
        self.leaf_depth = 0
        self.scope: list[str] = []

    def set(self, value, ids: frozenset) -> None:
        for t in pytree.tree_leaves(value):
            if isinstance(t, torch.Tensor):
                # Keeping the tensor alive keeps its id unique during the pass.
                self.prov[id(t)] = (t, ids)

    def tensor_sources(self, value) -> list[frozenset]:
        out = []
        for t in pytree.tree_leaves(value):
            if isinstance(t, torch.Tensor):
                entry = self.prov.get(id(t))
                out.append(entry[1] if entry else frozenset())
        return out

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        if self.leaf_depth > 0:
            return result  # inside a leaf module: its output hook decides
        name = getattr(func, "__name__", None)
        srcs = self.tensor_sources((args, kwargs))
        mtype = _merge_type(name)
        if mtype and _is_merge(srcs):
            nid = self.b.new_merge(mtype, self.scope[-1] if self.scope else "", _shape(result))
            for s in srcs:
                self.b.add_edges(s, nid)
            self.set(result, frozenset([nid]))
        elif srcs:
            merged = frozenset().union(*srcs)
            if merged:
                self.set(result, merged)
        return result


def _hooks_graph(model, example_inputs, leaves: dict[str, torch.nn.Module], leaf_types) -> dict:
    b = _GraphBuilder("hooks")
    tracker = _FlowTracker(b)
    for nid, value in zip(_input_ids(len(example_inputs)), example_inputs):
        b.add_node(nid, "Input", shape=_shape(value))
        tracker.set(value, frozenset([nid]))

    name_of = {id(m): n for n, m in leaves.items()}

    def make_leaf_hooks(name, module):
        def pre(mod, args, kwargs):
            if tracker.leaf_depth == 0:
                b.add_node(name, type(mod).__name__, params=_n_params(mod), parent=_parent(name))
                for s in tracker.tensor_sources((args, kwargs)):
                    b.add_edges(s, name)
            tracker.leaf_depth += 1

        def post(mod, args, output):
            tracker.leaf_depth -= 1
            if tracker.leaf_depth == 0:
                b.add_node(name, type(mod).__name__, shape=_shape(output))
                tracker.set(output, frozenset([name]))

        return pre, post

    def make_scope_hooks(name):
        def pre(mod, args):
            tracker.scope.append(name)

        def post(mod, args, output):
            if tracker.scope:
                tracker.scope.pop()

        return pre, post

    try:
        with _preserved_state(model, example_inputs) as hooks:
            for name, module in leaves.items():
                pre, post = make_leaf_hooks(name, module)
                hooks.pre(module, pre, with_kwargs=True)
                hooks.post(module, post)
            leaf_ids = set(name_of)
            for name, module in model.named_modules():
                if name and id(module) not in leaf_ids and not _inside_leaf(name, leaves):
                    pre, post = make_scope_hooks(name)
                    hooks.pre(module, pre)
                    hooks.post(module, post)
            with tracker:
                out = model(*example_inputs)
        b.add_node("output", "Output", shape=_shape(out))
        for s in tracker.tensor_sources(out):
            b.add_edges(s, "output")
    finally:
        tracker.prov.clear()
    return b.to_json()


def _inside_leaf(name: str, leaves: dict) -> bool:
    parts = name.split(".")
    return any(".".join(parts[:i]) in leaves for i in range(1, len(parts)))


# ---------------------------------------------------------------------------


def extract_graph(model: torch.nn.Module, example_inputs: tuple, leaf_types: tuple | None = None) -> dict:
    """Extracts the data-flow graph of a model.

    Tries ``torch.fx`` symbolic tracing first (``source="fx"``) and falls back
    to one hooked forward (``source="hooks"``) when tracing fails. See the
    module docstring for what becomes a node and how the model is preserved.

    Args:
        model: The model.
        example_inputs: Positional inputs of one forward (a tensor is taken
            as a 1-tuple). Shapes in the graph drop their first (batch) dim.
        leaf_types: Module classes to keep as single nodes even if they have
            children (e.g. a custom block).

    Returns:
        The graph JSON dict: ``{"source", "nodes", "edges"}`` with nodes
        ``{"id", "name", "type", "shape", "params", "logged", "parent"}``
        (``shape`` is None where unknown; ``logged`` is always False here).

    Raises:
        ValueError: If ``model`` is not a module or ``leaf_types`` is invalid.
        Exception: Whatever the model's forward raises in the hooks path
            (all hooks are removed first).
    """
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(example_inputs, torch.Tensor):
        example_inputs = (example_inputs,)
    if not isinstance(example_inputs, (tuple, list)):
        raise ValueError(f"example_inputs must be a tuple, got {type(example_inputs).__name__}")
    example_inputs = tuple(example_inputs)
    leaf_types = _check_leaf_types(leaf_types)
    leaves = leaf_modules(model, leaf_types)
    if "" in leaves:
        # A model without children is its own single node; fx would trace
        # through its forward and lose it.
        return _hooks_graph(model, example_inputs, {type(model).__name__: model}, leaf_types)

    try:
        return _fx_graph(model, example_inputs, leaves)
    except Exception as e:
        logger.info("ChannelExplorer: torch.fx tracing failed (%s: %s); using hooks", type(e).__name__, e)
    return _hooks_graph(model, example_inputs, leaves, leaf_types)
