"""Which layers to log, and capturing their channel summaries with forward hooks.

Layers ("entries") are found by one short *discovery* forward (on the first
two inputs) that hooks every module and follows tensors by identity:

* **Image layers** (the default set) are modules of the types in
  `CONV_TYPES`, `POOL_TYPES`, `UPSAMPLE_TYPES`, `NORM_TYPES` (subclasses
  included), custom conv modules (a childless module with a 4-D ``weight``),
  and *conv wrappers*: a module that is not a plain container and whose
  descendants hold exactly one convolution and no normalization, activation,
  pooling or upsampling module (e.g. a ``SamePadConv2d(nn.Module)`` padding
  then calling ``self.conv``). An image layer is a leaf: modules called
  inside it are part of it. Only layers whose output is a 4-D tensor
  ``[N, C, H, W]`` are kept.
* **Chains.** When a normalization layer consumes the unmodified output
  tensor of a convolution (same tensor object, same version counter), both
  are *one* entry, named after the convolution (the first module of the
  chain) and summarized at the normalization output. An activation module
  (`is_activation`) that consumes an entry's tensor unmodified gives that
  entry its ``post`` stage. So conv -> BN -> ReLU is one entry: ``pre`` is
  the BN output, ``post`` the ReLU output. Summaries are computed inside the
  forward hook of the module that produces the tensor, before any later
  in-place op (``ReLU(inplace=True)``, ``out += identity``) can change it.
* **Blocks** are modules with children (residual/inception blocks,
  ``nn.Sequential``...) whose output is a 4-D tensor. They are logged only
  when selected. A block (or any module) whose output is the very tensor of
  an entry is an alias of that entry: the same tensor is never logged twice.
* A module called several times in one forward (a shared ``self.pool``)
  gives one entry per call: ``pool``, ``pool:1``, ``pool:2``...

Limitations: functional ops (``F.relu``, ``F.max_pool2d``, ``x.relu_()``)
have no module to hook, so a functional nonlinearity gives no ``post`` stage
and a functional pooling is not an entry. Only models called as
``model(images)`` are supported. Data-dependent control flow that changes
which modules run between calls is not tracked (discovery runs once per
writer and model).
"""

from __future__ import annotations

import difflib
import fnmatch
import re
import warnings
import weakref
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from tensorboard_plugin_channelexplorer.images import downsample_maps, finite_range
from tensorboard_plugin_channelexplorer.metadata import SUMMARY_FUNCTIONS, summary_key
from tensorboard_plugin_channelexplorer.summaries import summarize

__all__ = [
    "CONV_TYPES",
    "POOL_TYPES",
    "UPSAMPLE_TYPES",
    "NORM_TYPES",
    "ACTIVATION_TYPES",
    "LayerEntry",
    "Discovery",
    "CaptureResult",
    "is_activation",
    "discover_layers",
    "select_layers",
    "run_capture",
    "capture",
]

CONV_TYPES: tuple[type, ...] = (nn.Conv2d, nn.ConvTranspose2d)
POOL_TYPES: tuple[type, ...] = (
    nn.MaxPool2d,
    nn.AvgPool2d,
    nn.AdaptiveAvgPool2d,
    nn.AdaptiveMaxPool2d,
    nn.LPPool2d,
    nn.FractionalMaxPool2d,
)
UPSAMPLE_TYPES: tuple[type, ...] = (nn.Upsample, nn.PixelShuffle, nn.PixelUnshuffle)  # Upsample covers UpsamplingNearest2d/Bilinear2d
NORM_TYPES: tuple[type, ...] = (
    nn.BatchNorm2d,
    nn.SyncBatchNorm,
    nn.GroupNorm,
    nn.InstanceNorm2d,
    nn.LayerNorm,
    nn.LocalResponseNorm,
)
ACTIVATION_TYPES: tuple[type, ...] = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.RReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU,
    nn.SiLU, nn.Mish, nn.Hardswish, nn.Hardsigmoid, nn.Hardtanh, nn.Sigmoid, nn.Tanh,
    nn.Softplus, nn.Softsign, nn.LogSigmoid, nn.Tanhshrink, nn.Threshold, nn.Hardshrink,
    nn.Softshrink,
)  # fmt: skip
# Custom childless activation modules are recognized by class name (Swish,
# MemoryEfficientSwish, QuickGELU, HSwish...).
_ACTIVATION_NAME = re.compile(r"relu|gelu|silu|swish|mish|elu$|sigmoid|tanh|softplus|activation", re.I)
_CONTAINERS = (nn.Sequential, nn.ModuleList, nn.ModuleDict)
_GLOB_CHARS = set("*?[")


def is_activation(module: nn.Module) -> bool:
    """True for nonlinearity modules: `ACTIVATION_TYPES` or childless modules named like one."""
    if isinstance(module, ACTIVATION_TYPES):
        return True
    return not any(True for _ in module.children()) and bool(_ACTIVATION_NAME.search(type(module).__name__))


def _layer_kind(module: nn.Module) -> str | None:
    """Kind of an image layer (``conv``, ``pool``, ``upsample``, ``norm``) or None."""
    if isinstance(module, CONV_TYPES):
        return "conv"
    if isinstance(module, POOL_TYPES):
        return "pool"
    if isinstance(module, UPSAMPLE_TYPES):
        return "upsample"
    if isinstance(module, NORM_TYPES):
        return "norm"
    if isinstance(module, _CONTAINERS) or is_activation(module):
        return None
    children = list(module.children())
    if not children:
        w = getattr(module, "weight", None)
        # A custom conv holding its own 4-D filter bank (calls F.conv2d).
        return "conv" if isinstance(w, torch.Tensor) and w.ndim == 4 else None
    n_conv = 0
    for sub in module.modules():
        if sub is module:
            continue
        if isinstance(sub, CONV_TYPES):
            n_conv += 1
        elif isinstance(sub, NORM_TYPES + POOL_TYPES + UPSAMPLE_TYPES) or is_activation(sub):
            return None
    return "conv" if n_conv == 1 else None


@dataclass
class LayerEntry:
    """One logged tensor point.

    Attributes:
        name: Entry name (the first module of the chain; ``name:k`` for the
            k-th call of a shared module).
        type: Class name of that first module.
        kind: ``conv``, ``pool``, ``upsample``, ``norm`` or ``block``.
        module: Qualified name of the first module.
        pre_module: Module whose output is the ``pre`` tensor, and
            ``pre_call`` which call of it (0-based, within one forward).
        post_module: Activation module whose output is the ``post`` tensor
            (or None), and ``post_call``.
        weight_module: Module whose filter norms are stored (the conv of a
            chain, else the first module), or None.
        shape: ``(C, H, W)`` of the pre tensor at discovery.
        members: Module names that resolve to this entry (chain members,
            modules inside a wrapper, alias blocks).
    """

    name: str
    type: str
    kind: str
    module: str
    pre_module: str
    pre_call: int
    shape: tuple[int, int, int]
    post_module: str | None = None
    post_call: int | None = None
    post_shape: tuple[int, int, int] | None = None
    weight_module: str | None = None
    norm_module: str | None = None
    members: list[str] = field(default_factory=list)

    @property
    def block(self) -> bool:
        return self.kind == "block"

    @property
    def channels(self) -> int:
        return int(self.shape[0])


@dataclass
class Discovery:
    """Result of `discover_layers`: every entry plus what the selection needs.

    Attributes:
        entries: All entries in execution order (image layers and blocks).
        shapes: Module name -> output shape (without N) of its first call,
            for every module that returned a tensor.
        activations: Names of the activation modules that were called.
        called: Names of all modules called in the forward.
    """

    entries: list[LayerEntry]
    shapes: dict[str, tuple]
    activations: set[str]
    called: set[str]
    module_names: list[str]

    def default_entries(self) -> list[LayerEntry]:
        """The default set: every image layer (no blocks)."""
        return [e for e in self.entries if not e.block]


@dataclass
class CaptureResult:
    """Result of `run_capture`.

    Attributes:
        output: The model output (as a plain forward returns it).
        summaries: Entry name -> ``{"pre/l2": float32 [N, C] CPU tensor, ...}``.
        maps: Entry name -> ``(maps float32 [M, C, h, w] CPU, lo, hi)``.
        shapes: Entry name -> ``(C, H, W)`` seen in this forward.
    """

    output: object
    summaries: dict[str, dict[str, torch.Tensor]]
    maps: dict[str, tuple[torch.Tensor, float, float]]
    shapes: dict[str, tuple[int, int, int]]
    stages: dict[str, list[str]]


def _first_tensor(obj):
    if isinstance(obj, torch.Tensor):
        return obj
    if isinstance(obj, (tuple, list)):
        for v in obj:
            if isinstance(v, torch.Tensor):
                return v
    if isinstance(obj, dict):
        for v in obj.values():
            if isinstance(v, torch.Tensor):
                return v
    return None


class _EvalMode:
    """Puts every module in eval mode and restores each flag afterwards."""

    def __init__(self, model: nn.Module, enabled: bool):
        self.model = model
        self.enabled = enabled
        self.flags: list[tuple[nn.Module, bool]] = []

    def __enter__(self):
        if self.enabled:
            self.flags = [(m, m.training) for m in self.model.modules()]
            for m, _ in self.flags:
                m.training = False
        return self

    def __exit__(self, *exc):
        for m, flag in self.flags:
            m.training = flag
        return False


def model_device(model: nn.Module, fallback: torch.device | None = None) -> torch.device:
    """Device of the model's first parameter or buffer (else ``fallback`` or CPU)."""
    for t in model.parameters():
        return t.device
    for t in model.buffers():
        return t.device
    return fallback or torch.device("cpu")


def discover_layers(model: nn.Module, example: torch.Tensor, eval_mode: bool = True) -> Discovery:
    """Runs one forward with hooks on every module and builds the entries.

    Args:
        model: The model, called as ``model(example)``.
        example: A small input batch ``[n, C, H, W]`` (two inputs suffice) on
            the model's device.
        eval_mode: Run with every module in eval mode (flags restored).

    Returns:
        The `Discovery`.

    Raises:
        ValueError: If ``example`` is not 4-D.
        Exception: Whatever the forward raises (hooks are removed first).
    """
    if not isinstance(example, torch.Tensor) or example.ndim != 4:
        raise ValueError(f"example must be a [N, C, H, W] tensor, got {getattr(example, 'shape', type(example))}")
    names: dict[nn.Module, str] = {}
    module_names = []
    for name, m in model.named_modules():
        if name and m not in names:
            names[m] = name
        if name:
            module_names.append(name)
    kinds = {m: _layer_kind(m) for m in names}
    acts = {m: is_activation(m) for m in names}
    # Modules inside an image layer belong to it.
    inner_of: dict[str, str] = {}
    for m, name in names.items():
        if kinds[m] is not None:
            for sub_name, _ in m.named_modules(prefix=name):
                if sub_name != name:
                    inner_of.setdefault(sub_name, name)

    entries: list[LayerEntry] = []
    owners: dict[int, tuple] = {}  # id(tensor) -> (weakref, version, entry, stage)
    counts: dict[nn.Module, int] = defaultdict(int)
    call_stack: dict[nn.Module, list[int]] = defaultdict(list)
    leaf_stack: list[nn.Module] = []
    decisions: dict[tuple[int, int], tuple] = {}
    shapes: dict[str, tuple] = {}
    called: set[str] = set()
    activations: set[str] = set()
    by_name: dict[str, LayerEntry] = {}

    def own(t, entry, stage):
        owners[id(t)] = (weakref.ref(t), t._version, entry, stage)

    def owner_of(t):
        if not isinstance(t, torch.Tensor):
            return None
        rec = owners.get(id(t))
        if rec is None or rec[0]() is not t or t._version != rec[1]:
            return None
        return rec

    def pre_hook(m, args, kwargs):
        k = counts[m]
        counts[m] += 1
        if leaf_stack:
            call_stack[m].append((k, False))
            return None
        call_stack[m].append((k, kinds[m] is not None))
        x = _first_tensor(args)
        if x is None:
            x = _first_tensor(kwargs)
        if kinds[m] == "norm":
            rec = owner_of(x)
            if rec is not None and rec[3] == "pre" and rec[2].kind == "conv" and rec[2].norm_module is None:
                decisions[(id(m), k)] = ("absorb", rec[2])
        elif acts[m]:
            rec = owner_of(x)
            if rec is not None and rec[3] == "pre" and rec[2].post_module is None:
                decisions[(id(m), k)] = ("post", rec[2])
        if kinds[m] is not None:
            leaf_stack.append(m)
        return None

    def hook(m, args, output):
        k, pushed = call_stack[m].pop()
        name = names[m]
        if pushed:
            leaf_stack.pop()
        elif leaf_stack:
            return None
        called.add(name)
        y = output if isinstance(output, torch.Tensor) else None
        if y is not None and name not in shapes:
            shapes[name] = tuple(y.shape[1:])
        elif y is None and name not in shapes:
            t = _first_tensor(output)
            shapes[name] = ("non-tensor",) if t is None else tuple(t.shape[1:])
        decision = decisions.pop((id(m), k), None)
        if acts[m]:
            activations.add(name)
            if decision is not None and y is not None:
                entry = decision[1]
                entry.post_module, entry.post_call = name, k
                entry.post_shape = tuple(y.shape[1:])
                own(y, entry, "post")
            return None
        if y is None or y.ndim != 4:
            return None
        label = name if k == 0 else f"{name}:{k}"
        if decision is not None and decision[0] == "absorb":
            entry = decision[1]
            entry.pre_module, entry.pre_call = name, k
            entry.norm_module = name
            entry.shape = tuple(y.shape[1:])
            entry.members.append(name)
            own(y, entry, "pre")
            return None
        rec = owner_of(y)
        if rec is not None:
            # Same tensor as an existing entry (a block returning its last
            # layer's output, a wrapper): an alias, never a second entry.
            rec[2].members.append(name)
            return None
        kind = kinds[m]
        if kind is None:
            if not any(True for _ in m.children()):
                return None
            kind = "block"
        if label in by_name:  # a name clash with a "name:k" module name; keep both
            label = f"{label}:{k}"
        entry = LayerEntry(
            name=label,
            type=type(m).__name__,
            kind=kind,
            module=name,
            pre_module=name,
            pre_call=k,
            shape=tuple(y.shape[1:]),
            weight_module=_weight_module(m, name) if kind != "block" else None,
            members=[name] + [s for s, owner in inner_of.items() if owner == name],
        )
        by_name[label] = entry
        entries.append(entry)
        own(y, entry, "pre")
        return None

    handles = []
    try:
        for m in names:
            handles.append(m.register_forward_pre_hook(pre_hook, with_kwargs=True))
            handles.append(m.register_forward_hook(hook))
        with torch.no_grad(), _EvalMode(model, eval_mode):
            model(example)
    finally:
        for h in handles:
            h.remove()
    return Discovery(entries=entries, shapes=shapes, activations=activations, called=called, module_names=module_names)


def _weight_module(module: nn.Module, name: str) -> str | None:
    """The module holding the filters of an image layer (a wrapper's inner conv)."""
    w = getattr(module, "weight", None)
    if isinstance(w, torch.Tensor):
        return name
    for sub_name, sub in module.named_modules(prefix=name):
        if isinstance(sub, CONV_TYPES):
            return sub_name
    return None


def _spec_str(spec) -> str:
    return spec.__name__ if isinstance(spec, type) else repr(spec)


def select_layers(discovery: Discovery, model: nn.Module, layers=None) -> list[LayerEntry]:
    """Resolves a user's layer selection to entries.

    Args:
        discovery: From `discover_layers`.
        model: The same model (for type matching).
        layers: None for the default set (all image layers, no blocks), or a
            spec / list of specs, each an exact module or entry name
            (``"layer1.0.conv1"``; a chain member such as its BN resolves to
            the chain; a shared module's name selects all its calls,
            ``"pool:1"`` one call), an `fnmatch` glob (``"layer1.*"``,
            matched against entry and member names, blocks included), or an
            ``nn.Module`` subclass (entries with a member of that type).

    Returns:
        The selected entries, in execution order, without duplicates.

    Raises:
        ValueError: For an exact name that is unknown, not called, a
            nonlinearity, or whose output is not 4-D; for a glob or type that
            matches no 4-D output; for a spec of another type. Globs and
            types that also match non-4-D modules warn and skip those.
    """
    if layers is None:
        return discovery.default_entries()
    if isinstance(layers, (str, type)):
        layers = [layers]
    if not isinstance(layers, Iterable):
        raise ValueError(f"layers must be None, a name, a glob, a module type or a list of them; got {layers!r}")
    layers = list(layers)
    if not layers:
        raise ValueError("layers is empty; pass None for the default set")
    modules = dict(model.named_modules())
    selected: set[int] = set()
    for spec in layers:
        if isinstance(spec, type):
            if not issubclass(spec, nn.Module):
                raise ValueError(f"layer type {spec.__name__} is not an nn.Module subclass")
            hits = [
                i for i, e in enumerate(discovery.entries)
                if any(isinstance(modules.get(n), spec) for n in e.members)
            ]  # fmt: skip
            others = [n for n, m in modules.items() if isinstance(m, spec) and n in discovery.shapes and not _in_any(n, discovery)]
        elif isinstance(spec, str):
            if _GLOB_CHARS & set(spec):
                hits = [
                    i for i, e in enumerate(discovery.entries)
                    if fnmatch.fnmatchcase(e.name, spec) or any(fnmatch.fnmatchcase(n, spec) for n in e.members)
                ]  # fmt: skip
                others = [n for n in discovery.shapes if fnmatch.fnmatchcase(n, spec) and not _in_any(n, discovery)]
            else:
                hits = [i for i, e in enumerate(discovery.entries) if e.name == spec or spec in e.members]
                if not hits:
                    raise ValueError(_unknown_name_message(spec, discovery))
                others = []
        else:
            raise ValueError(f"layer spec {spec!r} must be a name, a glob or an nn.Module subclass")
        others = [n for n in others if n not in discovery.activations]
        if others:
            shown = ", ".join(f"{n} {list(discovery.shapes[n])}" for n in others[:8])
            warnings.warn(
                f"layers spec {_spec_str(spec)} also matches modules without a [N, C, H, W] output "
                f"(skipped): {shown}{' ...' if len(others) > 8 else ''}",
                stacklevel=3,
            )
        if not hits:
            raise ValueError(f"layers spec {_spec_str(spec)} matches no module with a [N, C, H, W] output")
        selected.update(hits)
    return [e for i, e in enumerate(discovery.entries) if i in selected]


def _in_any(name: str, discovery: Discovery) -> bool:
    return any(name in e.members for e in discovery.entries)


def _unknown_name_message(spec: str, discovery: Discovery) -> str:
    if spec in discovery.activations:
        owners = [e.name for e in discovery.entries if e.post_module == spec]
        where = f" of {owners}" if owners else ""
        return (
            f"layer {spec!r} is a nonlinearity; its output is recorded as the 'post' stage{where}: "
            "select the layer before it and pass stage='post' or 'both'"
        )
    if spec in discovery.shapes:
        return f"layer {spec!r} outputs shape [N, {', '.join(map(str, discovery.shapes[spec]))}], not [N, C, H, W]"
    if spec in discovery.module_names:
        return f"layer {spec!r} was not called in the forward pass (or runs inside another logged layer)"
    names = [e.name for e in discovery.entries]
    close = difflib.get_close_matches(spec, list(dict.fromkeys(names + discovery.module_names)), n=5)
    hint = f"; did you mean {close}?" if close else f"; available: {names[:20]}"
    return f"unknown layer {spec!r}{hint}"


def _stages_of(entry: LayerEntry, stage: str) -> list[str]:
    if stage == "pre" or entry.post_module is None:
        return ["pre"]
    return ["post"] if stage == "post" else ["pre", "post"]


def run_capture(
    model: nn.Module,
    images: torch.Tensor,
    entries: Sequence[LayerEntry],
    stage: str = "pre",
    functions: Sequence[str] = SUMMARY_FUNCTIONS,
    map_sizes: dict[str, tuple[int, int]] | None = None,
    map_count: int | None = None,
    eval_mode: bool = True,
) -> CaptureResult:
    """Runs one forward and summarizes the entries inside their hooks.

    Hooks go only on the modules producing the selected tensors; they are
    removed in ``finally`` even when the forward raises. The forward runs
    under ``torch.no_grad()`` (no autograd graph is kept) and, by default,
    with every module in eval mode (BatchNorm running statistics are not
    updated; each module's ``training`` flag is restored). Summaries are
    computed on the activation's device; only the ``[N, C]`` results (and
    the small maps) move to the CPU, once, after the forward.

    Stages: ``"pre"`` summarizes each entry's pre tensor; ``"post"`` the
    output of the activation module following it *instead*; ``"both"``
    records both. Entries with no activation module after them (pooling, a
    conv feeding a residual add, a functional ``F.relu``) have only ``pre``,
    whatever ``stage`` says. Maps are taken from the first recorded stage
    (``pre`` unless ``stage == "post"``).

    Args:
        model: The model, called as ``model(images)``.
        images: ``[N, C, H, W]`` batch on the model's device.
        entries: Entries to capture (from `select_layers`).
        stage: ``"pre"``, ``"post"`` or ``"both"``.
        functions: Summary functions (subset of ``SUMMARY_FUNCTIONS``).
        map_sizes: Entry name -> ``(h, w)`` of the stored maps; None or a
            missing entry: no maps for it.
        map_count: Maps are kept for the first ``map_count`` inputs (all when
            None).
        eval_mode: Run with every module in eval mode.

    Returns:
        The `CaptureResult`.
    """
    if stage not in ("pre", "post", "both"):
        raise ValueError(f"stage must be 'pre', 'post' or 'both', got {stage!r}")
    modules = dict(model.named_modules())
    tasks: dict[str, dict[int, list[tuple[LayerEntry, str]]]] = defaultdict(lambda: defaultdict(list))
    stages: dict[str, list[str]] = {}
    for e in entries:
        st = _stages_of(e, stage)
        stages[e.name] = st
        for s in st:
            mod, call = (e.pre_module, e.pre_call) if s == "pre" else (e.post_module, e.post_call)
            tasks[mod][call].append((e, s))
    map_sizes = map_sizes or {}
    functions = tuple(functions)
    dev_summaries: dict[str, dict[str, torch.Tensor]] = defaultdict(dict)
    dev_maps: dict[str, tuple] = {}
    shapes: dict[str, tuple[int, int, int]] = {}
    warned: set[str] = set()

    def make_hook(mod_name: str):
        calls = tasks[mod_name]
        counter = [0]

        def hook(_m, _args, output):
            k = counter[0]
            counter[0] += 1
            todo = calls.get(k)
            if not todo:
                return None
            for entry, s in todo:
                if not isinstance(output, torch.Tensor) or output.ndim != 4:
                    if entry.name not in warned:
                        warned.add(entry.name)
                        warnings.warn(
                            f"layer {entry.name!r} ({s}) did not return a [N, C, H, W] tensor in this forward; skipped",
                            stacklevel=2,
                        )
                    continue
                res = summarize(output, functions)
                for fn, v in res.items():
                    dev_summaries[entry.name][summary_key(s, fn)] = v
                if s == "pre" or "pre" not in stages[entry.name]:
                    shapes[entry.name] = tuple(output.shape[1:])
                if s == stages[entry.name][0] and entry.name in map_sizes:
                    m = output.shape[0] if map_count is None else min(map_count, output.shape[0])
                    if m > 0:
                        dev_maps[entry.name] = downsample_maps(output, map_sizes[entry.name], m)
            return None

        return hook

    handles = []
    try:
        for mod_name in tasks:
            handles.append(modules[mod_name].register_forward_hook(make_hook(mod_name)))
        with torch.no_grad(), _EvalMode(model, eval_mode):
            output = model(images)
    finally:
        for h in handles:
            h.remove()

    summaries = {}
    for name, d in dev_summaries.items():
        summaries[name] = {k: v.to("cpu", torch.float32) for k, v in d.items()}
    maps = {}
    for name, (pooled, lo, hi) in dev_maps.items():
        arr, lo_f, hi_f = finite_range(pooled.to("cpu").numpy(), float(lo), float(hi))
        maps[name] = (torch.from_numpy(arr), lo_f, hi_f)
    # A stage that never ran (control flow changed) is dropped from the result.
    out_stages = {}
    for e in entries:
        got = [s for s in stages[e.name] if summary_key(s, functions[0]) in summaries.get(e.name, {})]
        if got:
            out_stages[e.name] = got
    return CaptureResult(output=output, summaries=summaries, maps=maps, shapes=shapes, stages=out_stages)


def capture(
    model: nn.Module,
    images: torch.Tensor,
    layers=None,
    stage: str = "pre",
    functions: Sequence[str] = SUMMARY_FUNCTIONS,
    eval_mode: bool = True,
) -> tuple[list[LayerEntry], CaptureResult]:
    """Discovers, selects and captures in one call (no maps).

    Args:
        model: The model.
        images: ``[N, C, H, W]`` batch (moved to the model's device).
        layers: Layer selection, see `select_layers`.
        stage: ``"pre"``, ``"post"`` or ``"both"``.
        functions: Summary functions.
        eval_mode: Run with every module in eval mode.

    Returns:
        ``(entries, result)``.
    """
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise ValueError(f"images must be a [N, C, H, W] tensor, got {getattr(images, 'shape', type(images))}")
    images = images.to(model_device(model, images.device))
    disc = discover_layers(model, images[:2], eval_mode=eval_mode)
    entries = select_layers(disc, model, layers)
    return entries, run_capture(model, images, entries, stage=stage, functions=functions, eval_mode=eval_mode)
