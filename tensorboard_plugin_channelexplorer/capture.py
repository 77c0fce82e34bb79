"""Selecting the layers to log, and capturing their channel summaries with forward hooks.

How layers are found (image layers, chains, blocks, shared modules) is
described in `discovery`; its names are re-exported here. `select_layers`
resolves a user's selection to entries; `run_capture` runs the forward and
summarizes each selected tensor inside the hook of the module producing it.
"""

from __future__ import annotations

import difflib
import fnmatch
import warnings
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from tensorboard_plugin_channelexplorer import discovery as _discovery
from tensorboard_plugin_channelexplorer.discovery import (  # re-exported: the public names of layer discovery
    ACTIVATION_TYPES,
    CONV_TYPES,
    NORM_TYPES,
    POOL_TYPES,
    UPSAMPLE_TYPES,
    Discovery,
    LayerEntry,
    discover_layers,
    is_activation,
    model_device,
)
from tensorboard_plugin_channelexplorer.forward import hooked_forward
from tensorboard_plugin_channelexplorer.images import downsample_maps, finite_range
from tensorboard_plugin_channelexplorer.metadata import SUMMARY_FUNCTIONS, summary_key
from tensorboard_plugin_channelexplorer.summaries import summarize

__all__ = [*_discovery.__all__, "CaptureResult", "select_layers", "run_capture", "capture"]

_GLOB_CHARS = set("*?[")


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

    with hooked_forward(model, eval_mode=eval_mode) as hooks:
        for mod_name in tasks:
            hooks.post(modules[mod_name], make_hook(mod_name))
        output = model(images)

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
