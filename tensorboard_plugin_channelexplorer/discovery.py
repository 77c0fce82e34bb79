"""Layer discovery: which tensors of a model are its loggable layers.

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

The module is a little over 400 lines: about a quarter is this contract and
the docstrings of `LayerEntry`; the discovery pass itself is one class.
"""

from __future__ import annotations

import re
import weakref
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

import torch
from torch import nn

from tensorboard_plugin_channelexplorer.forward import hooked_forward

__all__ = [
    "CONV_TYPES",
    "POOL_TYPES",
    "UPSAMPLE_TYPES",
    "NORM_TYPES",
    "ACTIVATION_TYPES",
    "LayerEntry",
    "Discovery",
    "is_activation",
    "discover_layers",
    "model_device",
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


def model_device(model: nn.Module, fallback: torch.device | None = None) -> torch.device:
    """Device of the model's first parameter or buffer (else ``fallback`` or CPU)."""
    for t in model.parameters():
        return t.device
    for t in model.buffers():
        return t.device
    return fallback or torch.device("cpu")


class _Owner(NamedTuple):
    """Which entry (and stage) an unmodified tensor belongs to."""

    ref: weakref.ref
    version: int
    entry: LayerEntry
    stage: str


class _Decision(NamedTuple):
    """What a module's output becomes, decided from its input in the pre-hook.

    ``action`` is ``"absorb"`` (a normalization that joins the chain of the
    convolution whose output it consumes) or ``"post"`` (an activation that
    gives the entry its ``post`` stage).
    """

    action: str
    entry: LayerEntry


class _Call(NamedTuple):
    """One pending call of a module: its call index and whether it opened an image layer."""

    index: int
    opened_layer: bool


class _DiscoveryPass:
    """State of one discovery forward; `pre_hook` and `hook` go on every module."""

    def __init__(self, model: nn.Module):
        self.names: dict[nn.Module, str] = {}
        self.module_names: list[str] = []
        for name, m in model.named_modules():
            if name and m not in self.names:
                self.names[m] = name
            if name:
                self.module_names.append(name)
        self.kinds = {m: _layer_kind(m) for m in self.names}
        self.acts = {m: is_activation(m) for m in self.names}
        # Modules inside an image layer belong to it.
        self.inner_of: dict[str, str] = {}
        for m, name in self.names.items():
            if self.kinds[m] is not None:
                for sub_name, _ in m.named_modules(prefix=name):
                    if sub_name != name:
                        self.inner_of.setdefault(sub_name, name)
        self.entries: list[LayerEntry] = []
        self.by_name: dict[str, LayerEntry] = {}
        self.owners: dict[int, _Owner] = {}  # by id(tensor)
        self.counts: dict[nn.Module, int] = defaultdict(int)
        self.pending: dict[nn.Module, list[_Call]] = defaultdict(list)
        self.leaf_stack: list[nn.Module] = []
        self.decisions: dict[tuple[int, int], _Decision] = {}
        self.shapes: dict[str, tuple] = {}
        self.called: set[str] = set()
        self.activations: set[str] = set()

    def result(self) -> Discovery:
        return Discovery(
            entries=self.entries,
            shapes=self.shapes,
            activations=self.activations,
            called=self.called,
            module_names=self.module_names,
        )

    def own(self, t: torch.Tensor, entry: LayerEntry, stage: str) -> None:
        self.owners[id(t)] = _Owner(weakref.ref(t), t._version, entry, stage)

    def owner_of(self, t) -> _Owner | None:
        """The owner of ``t`` if it is the very tensor, unmodified since."""
        if not isinstance(t, torch.Tensor):
            return None
        rec = self.owners.get(id(t))
        if rec is None or rec.ref() is not t or t._version != rec.version:
            return None
        return rec

    def pre_hook(self, m, args, kwargs):
        k = self.counts[m]
        self.counts[m] += 1
        if self.leaf_stack:
            self.pending[m].append(_Call(k, False))
            return None
        kind = self.kinds[m]
        self.pending[m].append(_Call(k, kind is not None))
        x = _first_tensor(args)
        if x is None:
            x = _first_tensor(kwargs)
        rec = self.owner_of(x)
        if rec is not None and rec.stage == "pre":
            if kind == "norm" and rec.entry.kind == "conv" and rec.entry.norm_module is None:
                self.decisions[(id(m), k)] = _Decision("absorb", rec.entry)
            elif kind != "norm" and self.acts[m] and rec.entry.post_module is None:
                self.decisions[(id(m), k)] = _Decision("post", rec.entry)
        if kind is not None:
            self.leaf_stack.append(m)
        return None

    def hook(self, m, args, output):
        call = self.pending[m].pop()
        name = self.names[m]
        if call.opened_layer:
            self.leaf_stack.pop()
        elif self.leaf_stack:
            return None
        self.called.add(name)
        y = output if isinstance(output, torch.Tensor) else None
        if name not in self.shapes:
            if y is not None:
                self.shapes[name] = tuple(y.shape[1:])
            else:
                t = _first_tensor(output)
                self.shapes[name] = ("non-tensor",) if t is None else tuple(t.shape[1:])
        decision = self.decisions.pop((id(m), call.index), None)
        if self.acts[m]:
            self.activations.add(name)
            if decision is not None and y is not None:
                entry = decision.entry
                entry.post_module, entry.post_call = name, call.index
                entry.post_shape = tuple(y.shape[1:])
                self.own(y, entry, "post")
            return None
        if y is None or y.ndim != 4:
            return None
        if decision is not None and decision.action == "absorb":
            entry = decision.entry
            entry.pre_module, entry.pre_call = name, call.index
            entry.norm_module = name
            entry.shape = tuple(y.shape[1:])
            entry.members.append(name)
            self.own(y, entry, "pre")
            return None
        rec = self.owner_of(y)
        if rec is not None:
            # Same tensor as an existing entry (a block returning its last
            # layer's output, a wrapper): an alias, never a second entry.
            rec.entry.members.append(name)
            return None
        self._new_entry(m, name, call.index, y)
        return None

    def _new_entry(self, m: nn.Module, name: str, k: int, y: torch.Tensor) -> None:
        kind = self.kinds[m]
        if kind is None:
            if not any(True for _ in m.children()):
                return
            kind = "block"
        label = name if k == 0 else f"{name}:{k}"
        if label in self.by_name:  # a name clash with a "name:k" module name; keep both
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
            members=[name] + [s for s, owner in self.inner_of.items() if owner == name],
        )
        self.by_name[label] = entry
        self.entries.append(entry)
        self.own(y, entry, "pre")


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
    state = _DiscoveryPass(model)
    with hooked_forward(model, eval_mode=eval_mode) as hooks:
        for m in state.names:
            hooks.pre(m, state.pre_hook, with_kwargs=True)
            hooks.post(m, state.hook)
        model(example)
    return state.result()

def _weight_module(module: nn.Module, name: str) -> str | None:
    """The module holding the filters of an image layer (a wrapper's inner conv)."""
    w = getattr(module, "weight", None)
    if isinstance(w, torch.Tensor):
        return name
    for sub_name, sub in module.named_modules(prefix=name):
        if isinstance(sub, CONV_TYPES):
            return sub_name
    return None
