"""The logging API: `ChannelExplorerWriter`.

Example::

    from tensorboard_plugin_channelexplorer import ChannelExplorerWriter

    with ChannelExplorerWriter("runs/exp1") as ce_writer:
        for epoch in range(epochs):
            train(...)
            ce_writer.log_layers(model, probe_x, labels=probe_y, step=epoch,
                                 class_names=names, sample_ids=probe_ids)

What is written per step (format: ``docs/architecture.md``): per layer the
``[N, C]`` summaries of each function, filter norms where the layer has
weights, labels / class names / sample ids, top-1 predictions and their
softmax probability when the output looks like classification logits, PNG
thumbnails, compact quantized activation maps, the model graph and a JSON
manifest (written last, so a step with a manifest is complete).

Steps. Calls with the same ``step`` accumulate (the inputs add up). Each
call hands its step to the event writer at once, so ChannelExplorer records
stay in step order with the scalars a training loop writes next (TensorBoard
warns about, and may purge, out-of-order steps). A further call for the same
step writes the whole accumulated step again and readers keep the last
record; to log many batches into one step, use `log_dataloader` (it writes
once) or pass ``write=False`` to all but the last call. Nothing held back is
lost at `flush`, `close`, the next step or interpreter exit. A step smaller
than the current one
raises ``ValueError``: TensorBoard treats out-of-order steps of a tag as a
restart and would purge the newer data.
"""

from __future__ import annotations

import atexit
import logging
import time
import warnings
import weakref
from collections.abc import Sequence

import numpy as np
import torch
from tensorboard.compat.proto import event_pb2, summary_pb2
from torch import nn

from tensorboard_plugin_channelexplorer import __version__, metadata
from tensorboard_plugin_channelexplorer.capture import (
    Discovery,
    LayerEntry,
    discover_layers,
    model_device,
    run_capture,
    select_layers,
)
from tensorboard_plugin_channelexplorer.encoding import encode_npz, json_tensor_proto, string_tensor_proto
from tensorboard_plugin_channelexplorer.images import (
    DEFAULT_MAP_SIDE,
    DEFAULT_MAPS_BUDGET_BYTES,
    DEFAULT_THUMBNAIL_SIDE,
    choose_map_sizes,
    quantize_maps,
    thumbnails_png,
)
from tensorboard_plugin_channelexplorer.metadata import SUMMARY_FUNCTIONS
from tensorboard_plugin_channelexplorer.summaries import filter_norms

logger = logging.getLogger(__name__)

__all__ = ["ChannelExplorerWriter"]


_FAST_CRC_INSTALLED = False


def _install_fast_crc() -> bool:
    """Uses the C CRC32C of ``google-crc32c`` (when installed) for event records.

    TensorBoard's record writer (used by torch's SummaryWriter) computes the
    record checksums in pure Python, about 0.4 s per MiB: for the megabytes
    of a ChannelExplorer step that is most of the write time, spent holding
    the GIL. The replacement returns the same masked CRC32C, so the files are
    byte-identical; it is installed once per process, only if the C
    implementation is available.
    """
    global _FAST_CRC_INSTALLED
    if _FAST_CRC_INSTALLED:
        return True
    try:
        import google_crc32c
        from tensorboard.summary.writer import record_writer
    except ImportError:
        return False
    if getattr(google_crc32c, "implementation", "") != "c":
        return False
    value = google_crc32c.value

    def masked_crc32c(data):
        x = value(bytes(data))
        return (((x >> 15) | (x << 17)) + 0xA282EAD8) & 0xFFFFFFFF

    record_writer.masked_crc32c = masked_crc32c
    _FAST_CRC_INSTALLED = True
    return True


class _StepData:
    """Everything accumulated for one step."""

    def __init__(self, step: int):
        self.step = step
        self.n = 0
        self.labels: list[np.ndarray] = []
        self.sample_ids: list[np.ndarray] = []
        self.user_ids: bool | None = None
        self.predictions: list[np.ndarray] | None = []
        self.probabilities: list[np.ndarray] = []
        self.thumbnails: list[bytes] | None = []
        self.entries: list[LayerEntry] | None = None
        self.signature = None
        self.stages: dict[str, list[str]] = {}
        self.shapes: dict[str, tuple] = {}
        self.summaries: dict[str, dict[str, list[np.ndarray]]] = {}
        self.filter_norms: dict[str, np.ndarray] = {}
        self.map_sizes: dict[str, tuple[int, int]] | None = None
        self.map_bytes_per_input = 0
        self.map_bytes_used = 0
        self.maps: dict[str, list[np.ndarray]] = {}
        self.map_indices: list[np.ndarray] = []
        self.map_range: dict[str, list[float]] = {}
        self.maps_enabled = True
        self.dirty = False


def _as_int_step(step) -> int:
    if isinstance(step, (bool, np.bool_)) or not isinstance(step, (int, np.integer)):
        raise ValueError(f"step must be an int >= 0, got {step!r}")
    if step < 0:
        raise ValueError(f"step must be an int >= 0, got {step}")
    return int(step)


def _to_list(values, what: str):
    """Tensor / ndarray / sequence -> 1-D numpy array (ints or str)."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise ValueError(f"{what} must be 1-D, got shape {values.shape}")
        return values
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise ValueError(f"{what} must be a 1-D tensor, array or list, got {type(values).__name__}")
    return list(values)


def _find_logits(output) -> torch.Tensor | None:
    """First 2-D tensor of a model output (tensor, tuple/list, dict)."""
    if isinstance(output, torch.Tensor):
        return output if output.ndim == 2 else None
    items = output.values() if isinstance(output, dict) else output if isinstance(output, (tuple, list)) else ()
    for v in items:
        if isinstance(v, torch.Tensor) and v.ndim == 2:
            return v
    return None


class ChannelExplorerWriter:
    """Writes ChannelExplorer data into TensorBoard event files.

    Args:
        log_dir: A log directory (a `torch.utils.tensorboard.SummaryWriter`
            is created for it and closed by `close`) or an existing
            SummaryWriter (its event file is shared, so its scalars sit next
            to the ChannelExplorer data; `close` only flushes it).
        functions: Summary functions to compute (subset of
            ``("l2", "otsu", "mean", "max")``).
        maps_budget_bytes: Byte budget of the uint8 activation maps of one
            step over all layers (8 MiB by default, before compression). One
            map side (at most ``map_side``) is chosen for the step so every
            input's maps fit; if even ``1 x 1`` maps do not fit, only the
            first inputs get maps (their ``indices`` are stored).
        map_side: Largest side of a stored activation map.
        thumbnail_side: Largest side of an input thumbnail.
        eval_mode: Run the logging forward with every module in eval mode (no
            BatchNorm statistics update, no dropout); flags are restored.
        mark_rewrites: Before writing a step again, write a
            ``SessionLog.START`` event at that step, so TensorBoard's Python
            loader (``--load_fast=false``) purges the first record instead of
            serving it (the default Rust loader keeps the last record either
            way). That loader then also drops *other* tags' events at steps
            >= that step, so the default (None) marks rewrites only when this
            writer created its SummaryWriter.
        **writer_kwargs: Passed to SummaryWriter when ``log_dir`` is a path.

    Attributes:
        timings: Seconds spent in the parts of the last call
            (``discover``, ``capture`` = forward + hooks + summaries + maps,
            ``thumbnails``, ``graph``, ``write``).
    """

    def __init__(
        self,
        log_dir=None,
        *,
        functions: Sequence[str] = SUMMARY_FUNCTIONS,
        maps_budget_bytes: int = DEFAULT_MAPS_BUDGET_BYTES,
        map_side: int = DEFAULT_MAP_SIDE,
        thumbnail_side: int = DEFAULT_THUMBNAIL_SIDE,
        eval_mode: bool = True,
        mark_rewrites: bool | None = None,
        **writer_kwargs,
    ):
        from torch.utils.tensorboard import SummaryWriter

        if isinstance(functions, str):
            functions = (functions,)
        functions = tuple(functions)
        bad = [f for f in functions if f not in SUMMARY_FUNCTIONS]
        if not functions or bad or len(set(functions)) != len(functions):
            raise ValueError(f"functions must be distinct names from {SUMMARY_FUNCTIONS}, got {functions}")
        for name, v in (("maps_budget_bytes", maps_budget_bytes), ("map_side", map_side), ("thumbnail_side", thumbnail_side)):
            if isinstance(v, bool) or not isinstance(v, int) or v < (0 if name == "maps_budget_bytes" else 1):
                raise ValueError(f"{name} must be a {'non-negative' if name == 'maps_budget_bytes' else 'positive'} int, got {v!r}")
        _install_fast_crc()
        if isinstance(log_dir, SummaryWriter):
            if writer_kwargs:
                raise ValueError(f"writer_kwargs {sorted(writer_kwargs)} given with an existing SummaryWriter")
            self._sw = log_dir
            self._owns_sw = False
        else:
            self._sw = SummaryWriter(log_dir=log_dir, **writer_kwargs)
            self._owns_sw = True
        self.functions = functions
        self.maps_budget_bytes = maps_budget_bytes
        self.map_side = map_side
        self.thumbnail_side = thumbnail_side
        self.eval_mode = eval_mode
        self.mark_rewrites = self._owns_sw if mark_rewrites is None else bool(mark_rewrites)
        self.timings: dict[str, float] = {}
        self._current: _StepData | None = None
        self._steps_written: set[int] = set()
        self._discoveries: dict[int, tuple[weakref.ref, Discovery]] = {}
        self._graph: dict | None = None
        self._graph_done = False
        self._string_classes: list[str] = []
        self._class_names: list[str] | None = None
        self._closed = False
        self._exit_hook = _exit_hook(weakref.ref(self))
        atexit.register(self._exit_hook)

    # ------------------------------------------------------------------ API

    @property
    def summary_writer(self):
        """The underlying `torch.utils.tensorboard.SummaryWriter`."""
        return self._sw

    @property
    def log_dir(self) -> str:
        """The event file directory."""
        return self._sw.get_logdir()

    def log_layers(
        self,
        model: nn.Module,
        images: torch.Tensor,
        labels=None,
        *,
        step: int,
        class_names: Sequence[str] | None = None,
        sample_ids=None,
        layers=None,
        stage: str = "pre",
        thumbnails: bool = True,
        maps: bool = True,
        predictions: bool = True,
        write: bool = True,
        _expected_inputs: int | None = None,
    ):
        """Runs ``model(images)`` once and records its layers' channel summaries.

        Args:
            model: The model (called as ``model(images)``; images are moved to
                its device).
            images: ``[N, C, H, W]`` input batch (any float dtype, any memory
                format).
            labels: N class ids (tensor, array or list of ints) or N class
                name strings (mapped to ids; new names are appended to the
                class names in order of first appearance). None: every input
                gets class 0 (``"all"`` unless ``class_names`` says otherwise).
            step: The step (e.g. the epoch), an int >= 0, never decreasing.
            class_names: Names of the classes, covering every label id. Default:
                the names of string labels, else ``"0"``, ``"1"``...
            sample_ids: N stable ids of the inputs (ints or strings), so the
                same input can be followed across steps. Default: the running
                index 0..N-1 over the calls of the step.
            layers: None for the default set (every conv chain, pooling,
                upsampling and standalone normalization layer with a 4-D
                output), or names / globs / module types (see
                `capture.select_layers`; blocks are logged only when selected).
            stage: ``"pre"`` (before the nonlinearity, the paper's default),
                ``"post"`` (after it, instead) or ``"both"``.
            thumbnails: Store a small PNG of each input.
            maps: Store compact activation maps.
            predictions: Record top-1 predictions when the output looks like
                classification logits. Pass False when the model's classes are
                not ``class_names`` (e.g. an ImageNet model probed with
                user-defined classes).
            write: Hand the accumulated step to the event writer now. Pass
                False to all but the last of many calls with the same step, to
                avoid rewriting the step each time (`flush`, `close` and the
                next step write it anyway).

        Raises:
            ValueError: On invalid arguments (see the messages), a decreasing
                step, or a layer selection / stage that differs from earlier
                calls of the same step.
        """
        if self._closed:
            raise ValueError("this ChannelExplorerWriter is closed")
        timings = {}
        step = _as_int_step(step)
        if not isinstance(model, nn.Module):
            raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if not isinstance(images, torch.Tensor) or images.ndim != 4:
            raise ValueError(
                f"images must be a 4-D tensor [N, C, H, W], got {tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__}"
            )
        n = int(images.shape[0])
        if n == 0:
            raise ValueError("images has 0 inputs")
        if stage not in ("pre", "post", "both"):
            raise ValueError(f"stage must be 'pre', 'post' or 'both', got {stage!r}")
        label_ids, names = self._resolve_labels(labels, n, class_names)
        ids = self._resolve_ids(sample_ids, n)
        if self._current is not None and step < self._current.step:
            raise ValueError(
                f"step {step} is smaller than the current step {self._current.step}; steps must not "
                "decrease (TensorBoard would discard the newer data); use a new log_dir for a new run"
            )

        dev = model_device(model, images.device)
        t0 = time.perf_counter()
        disc = self._discovery(model, images.to(dev)[:2])
        entries = select_layers(disc, model, layers)
        if not entries:
            # Only the inputs get logged; say why instead of writing an empty graph silently.
            warnings.warn(
                f"{type(model).__name__} has no layer with a 4-D [N, C, H, W] output in the default "
                "set (conv chains, pooling, upsampling, normalization); only inputs are logged. "
                "Pass layers=... to choose layers explicitly.",
                stacklevel=2,
            )
        timings["discover"] = time.perf_counter() - t0

        if self._current is not None and step > self._current.step:
            self._write_current()
            self._current = None
        cur = self._current or _StepData(step)
        signature = (tuple(e.name for e in entries), stage)
        if cur.signature is not None and cur.signature != signature:
            raise ValueError(
                f"layers/stage differ from the earlier calls of step {step}: "
                f"{list(cur.signature[0])} ({cur.signature[1]}) vs {list(signature[0])} ({stage})"
            )
        if cur.user_ids is not None and cur.user_ids != (ids is not None):
            raise ValueError(f"sample_ids must be given in every call of step {step} or in none")

        # Map sizes are fixed by the first call of a step; later calls fill
        # the rest of the byte budget.
        map_sizes = None
        map_count = 0
        if maps and cur.maps_enabled and self.maps_budget_bytes > 0:
            if cur.map_sizes is None:
                expect = max(n, _expected_inputs or 0)
                cur.map_sizes, _ = choose_map_sizes(
                    {e.name: e.shape for e in entries}, expect, self.maps_budget_bytes, self.map_side
                )
                cur.map_bytes_per_input = sum(entries_shape[0] * h * w for entries_shape, (h, w) in
                                              ((e.shape, cur.map_sizes[e.name]) for e in entries))  # fmt: skip
            per = max(1, cur.map_bytes_per_input)
            map_count = int(min(n, max(0, self.maps_budget_bytes - cur.map_bytes_used) // per))
            map_sizes = cur.map_sizes if map_count > 0 else None
        elif not maps:
            cur.maps_enabled = False

        t0 = time.perf_counter()
        result = run_capture(
            model,
            images.to(dev),
            entries,
            stage=stage,
            functions=self.functions,
            map_sizes=map_sizes,
            map_count=map_count,
            eval_mode=self.eval_mode,
        )
        timings["capture"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        thumbs = thumbnails_png(images, self.thumbnail_side) if thumbnails and cur.thumbnails is not None else None
        timings["thumbnails"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        if not self._graph_done:
            self._graph_done = True
            self._graph = self._extract_graph(model, images.to(dev)[:1], entries, disc)
        timings["graph"] = time.perf_counter() - t0

        # Accumulate (nothing above touched the step state, so a failing
        # forward leaves it unchanged).
        cur.signature = signature
        if cur.entries is None:
            cur.entries = list(entries)
        cur.user_ids = ids is not None
        if ids is None:
            ids = np.arange(cur.n, cur.n + n, dtype=np.int64)
        cur.labels.append(label_ids)
        cur.sample_ids.append(ids)
        logits = _find_logits(result.output)
        n_classes = len(names) if names is not None else int(label_ids.max()) + 1
        if predictions and cur.predictions is not None and logits is not None and logits.shape[0] == n and logits.shape[1] >= max(2, n_classes):
            probs = torch.softmax(logits.detach().float(), dim=1)
            p, k = probs.max(dim=1)
            cur.predictions.append(k.cpu().numpy().astype(np.int64))
            cur.probabilities.append(p.cpu().numpy().astype(np.float32))
        else:
            cur.predictions = None
        if thumbs is None:
            cur.thumbnails = None
        elif cur.thumbnails is not None:
            cur.thumbnails.extend(thumbs)
        if map_sizes is not None:
            cur.map_indices.append(np.arange(cur.n, cur.n + map_count, dtype=np.int64))
            cur.map_bytes_used += map_count * cur.map_bytes_per_input
        modules = dict(model.named_modules())
        for e in entries:
            if e.name not in result.summaries:
                continue
            cur.stages.setdefault(e.name, result.stages.get(e.name, ["pre"]))
            cur.shapes.setdefault(e.name, result.shapes.get(e.name, e.shape))
            store = cur.summaries.setdefault(e.name, {})
            for key, v in result.summaries[e.name].items():
                store.setdefault(key, []).append(v.numpy())
            if e.weight_module is not None and e.weight_module in modules:
                fn = filter_norms(modules[e.weight_module])
                if fn is not None and fn.numel() == cur.shapes[e.name][0]:
                    cur.filter_norms[e.name] = fn.detach().to("cpu", torch.float32).numpy()
            if map_sizes is not None and e.name in result.maps:
                m, lo, hi = result.maps[e.name]
                cur.maps.setdefault(e.name, []).append(m.numpy())
                rng = cur.map_range.setdefault(e.name, [lo, hi])
                rng[0], rng[1] = min(rng[0], lo), max(rng[1], hi)
        if names is not None:
            self._class_names = list(names)
        cur.n += n
        cur.dirty = True
        self._current = cur
        self.timings = timings
        if write:
            self._write_current()

    def log_dataloader(
        self,
        model: nn.Module,
        loader,
        *,
        step: int,
        class_names: Sequence[str] | None = None,
        max_inputs: int | None = None,
        progress: bool = True,
        **log_layers_kwargs,
    ) -> int:
        """Logs every batch of a data loader into one step.

        Batches may be ``x``, ``(x, y)`` or ``(x, y, ids)`` (tuples or lists).

        Args:
            model: The model.
            loader: Any iterable of batches (e.g. a ``DataLoader``).
            step: The step.
            class_names: Class names (see `log_layers`).
            max_inputs: Stop after this many inputs (the last batch is cut).
            progress: Show a tqdm progress bar.
            **log_layers_kwargs: ``layers``, ``stage``, ``thumbnails``, ``maps``, ``predictions``.

        Returns:
            The number of inputs logged.
        """
        from tqdm.auto import tqdm

        if max_inputs is not None and (isinstance(max_inputs, bool) or not isinstance(max_inputs, int) or max_inputs < 1):
            raise ValueError(f"max_inputs must be a positive int or None, got {max_inputs!r}")
        bad = set(log_layers_kwargs) - {"layers", "stage", "thumbnails", "maps", "predictions"}
        if bad:
            raise ValueError(f"unexpected arguments {sorted(bad)}")
        try:
            total = len(loader.dataset)  # type: ignore[attr-defined]
        except (AttributeError, TypeError):
            total = None
        if max_inputs is not None:
            total = max_inputs if total is None else min(total, max_inputs)
        done = 0
        with tqdm(total=total, disable=not progress, unit="input", desc=f"channelexplorer step {step}") as bar:
            for batch in loader:
                x, y, ids = _unpack_batch(batch)
                if max_inputs is not None:
                    keep = max_inputs - done
                    if keep <= 0:
                        break
                    if x.shape[0] > keep:
                        x = x[:keep]
                        y = y[:keep] if y is not None else None
                        ids = ids[:keep] if ids is not None else None
                self.log_layers(
                    model, x, y, step=step, class_names=class_names, sample_ids=ids,
                    write=False, _expected_inputs=total, **log_layers_kwargs,
                )  # fmt: skip
                done += int(x.shape[0])
                bar.update(int(x.shape[0]))
                if max_inputs is not None and done >= max_inputs:
                    break
        self._write_current()
        return done

    def flush(self):
        """Writes the accumulated step (if it has new data) and flushes the event file to disk."""
        if self._closed:
            return
        self._write_current()
        self._sw.flush()

    def close(self):
        """Flushes, and closes the SummaryWriter if this writer created it."""
        if self._closed:
            return
        self.flush()
        self._closed = True
        atexit.unregister(self._exit_hook)
        if self._owns_sw:
            self._sw.close()
        self._current = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    # ------------------------------------------------------------- internals

    def _discovery(self, model: nn.Module, example: torch.Tensor) -> Discovery:
        key = id(model)
        hit = self._discoveries.get(key)
        if hit is not None and hit[0]() is model:
            return hit[1]
        disc = discover_layers(model, example, eval_mode=self.eval_mode)
        self._discoveries[key] = (weakref.ref(model), disc)
        return disc

    def _resolve_labels(self, labels, n: int, class_names):
        if class_names is not None:
            if isinstance(class_names, str) or not isinstance(class_names, Sequence) and not isinstance(class_names, np.ndarray):
                raise ValueError(f"class_names must be a list of strings, got {type(class_names).__name__}")
            class_names = [str(c) for c in class_names]
            if len(set(class_names)) != len(class_names):
                raise ValueError("class_names contains duplicates")
        if labels is None:
            ids = np.zeros(n, dtype=np.int64)
            names = class_names or self._class_names or ["all"]
            return ids, names
        values = _to_list(labels, "labels")
        if len(values) != n:
            raise ValueError(f"labels has {len(values)} entries but images has {n} inputs")
        arr = np.asarray(values) if not isinstance(values, np.ndarray) else values
        if arr.dtype.kind in "US" or (arr.dtype == object and all(isinstance(v, str) for v in values)):
            strs = [str(v) for v in values]
            if class_names is not None:
                index = {c: i for i, c in enumerate(class_names)}
                missing = sorted(set(strs) - set(index))
                if missing:
                    raise ValueError(f"labels {missing[:5]} are not in class_names")
                return np.array([index[s] for s in strs], dtype=np.int64), class_names
            for s in strs:
                if s not in self._string_classes:
                    self._string_classes.append(s)
            index = {c: i for i, c in enumerate(self._string_classes)}
            return np.array([index[s] for s in strs], dtype=np.int64), list(self._string_classes)
        if arr.dtype.kind == "b" or (arr.dtype.kind not in "iu" and not (arr.dtype.kind == "f" and np.all(np.mod(arr, 1) == 0))):
            raise ValueError(f"labels must be integer class ids or strings, got dtype {arr.dtype}")
        ids = arr.astype(np.int64)
        if ids.size and ids.min() < 0:
            raise ValueError(f"labels must be >= 0, got {int(ids.min())}")
        names = class_names or self._class_names
        if names is not None and int(ids.max()) >= len(names):
            if class_names is None:
                names = None  # earlier defaults no longer cover the labels: rebuild them
            else:
                raise ValueError(
                    f"class_names has {len(names)} names but labels go up to {int(ids.max())}"
                )
        if names is None:
            prev = self._current.labels if self._current is not None else []
            top = max([int(ids.max())] + [int(a.max()) for a in prev if a.size])
            names = [str(i) for i in range(top + 1)]
        return ids, names

    def _resolve_ids(self, sample_ids, n: int):
        if sample_ids is None:
            return None
        values = _to_list(sample_ids, "sample_ids")
        if len(values) != n:
            raise ValueError(f"sample_ids has {len(values)} entries but images has {n} inputs")
        arr = np.asarray(values)
        if arr.dtype.kind in "iu":
            return arr.astype(np.int64)
        if arr.dtype.kind in "US" or arr.dtype == object:
            return np.array([str(v) for v in values], dtype=str)
        raise ValueError(f"sample_ids must be ints or strings, got dtype {arr.dtype}")

    def _extract_graph(self, model, example, entries, disc):
        try:
            from tensorboard_plugin_channelexplorer import graph as graph_mod

            # Image layers with children (conv wrappers, Conv2d subclasses
            # holding a padding module) stay single nodes, named like the entries.
            modules = dict(model.named_modules())
            leaf_types = tuple(
                {type(modules[e.module]) for e in disc.entries if not e.block and any(True for _ in modules[e.module].children())}
            )
            graph = graph_mod.extract_graph(model, (example,), leaf_types=leaf_types or None)
        except Exception as exc:  # noqa: BLE001 - the graph is optional; never lose the summaries
            warnings.warn(f"could not extract the model graph ({type(exc).__name__}: {exc}); no graph is logged", stacklevel=3)
            return None
        return graph

    def _graph_for(self, cur: _StepData) -> dict | None:
        if self._graph is None:
            return None
        # "logged" marks the node named like a layer (the first module of a
        # chain); every module of a logged chain also gets "layer": the name
        # to request (e.g. the BN of conv -> BN -> ReLU points to the conv).
        owner = {}
        for e in cur.entries or []:
            if e.name in cur.summaries:
                for member in [e.module] + list(e.members):
                    owner.setdefault(member, e)
        graph = dict(self._graph)
        nodes = []
        for node in graph.get("nodes", []):
            node = dict(node)
            e = owner.get(node.get("id"))
            if e is not None:
                node["layer"] = e.name
                if node.get("id") == e.module:
                    node["logged"] = True
                    if not node.get("shape"):
                        node["shape"] = list(cur.shapes.get(e.name, e.shape))
            nodes.append(node)
        graph["nodes"] = nodes
        return graph

    def _write_current(self):
        cur = self._current
        if cur is None or not cur.dirty:
            return
        t0 = time.perf_counter()
        walltime = time.time()
        step = cur.step
        if self.mark_rewrites and (not self._steps_written or step in self._steps_written):
            # The Python loader ignores the first START of a run and, on a
            # later one, purges every record at steps >= its step.
            self._sw._get_file_writer().add_event(
                event_pb2.Event(session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START)), step, walltime
            )
        labels = np.concatenate(cur.labels)
        ids = np.concatenate(cur.sample_ids)
        names = self._class_names or [str(i) for i in range(int(labels.max()) + 1)]
        if len(names) <= int(labels.max()):
            names = list(names) + [str(i) for i in range(len(names), int(labels.max()) + 1)]
        inputs = {"labels": labels, "sample_ids": ids}
        has_pred = bool(cur.predictions)
        if has_pred:
            inputs["predictions"] = np.concatenate(cur.predictions)
            inputs["probabilities"] = np.concatenate(cur.probabilities)
        self._add(metadata.INPUTS_TAG, metadata.KIND_INPUTS, string_tensor_proto([encode_npz(inputs)]), step, walltime)
        has_thumbs = cur.thumbnails is not None and len(cur.thumbnails) == cur.n
        if has_thumbs:
            self._add(metadata.THUMBNAILS_TAG, metadata.KIND_THUMBNAILS, string_tensor_proto(cur.thumbnails), step, walltime)
        layer_rows = []
        map_idx = np.concatenate(cur.map_indices) if cur.map_indices else np.zeros(0, dtype=np.int64)
        for e in cur.entries or []:
            if e.name not in cur.summaries:
                continue
            arrays = {k: np.concatenate(v).astype(np.float32, copy=False) for k, v in cur.summaries[e.name].items()}
            if arrays[next(iter(arrays))].shape[0] != cur.n:
                continue  # the layer did not run in every call of the step
            if e.name in cur.filter_norms:
                arrays["filter_norm"] = cur.filter_norms[e.name]
            self._add(metadata.layer_tag(e.name), metadata.KIND_LAYER, string_tensor_proto([encode_npz(arrays)]), step, walltime, layer=e.name)
            has_maps = False
            if e.name in cur.maps and cur.maps_enabled:
                q_list = cur.maps[e.name]
                lo, hi = cur.map_range[e.name]
                maps = np.concatenate(q_list) if len(q_list) > 1 else q_list[0]
                if maps.shape[0] == map_idx.shape[0]:
                    blob = encode_npz(
                        {
                            "maps": quantize_maps(maps, lo, hi),
                            "indices": map_idx,
                            "lo": np.float32(lo),
                            "hi": np.float32(hi),
                        },
                        compress=True,
                    )
                    self._add(metadata.maps_tag(e.name), metadata.KIND_MAPS, string_tensor_proto([blob]), step, walltime, layer=e.name)
                    has_maps = True
            shape = [int(s) for s in cur.shapes.get(e.name, e.shape)]
            layer_rows.append(
                {
                    "name": e.name,
                    "type": e.type,
                    "shape": shape,
                    "channels": shape[0],
                    "stages": list(cur.stages.get(e.name, ["pre"])),
                    "functions": list(self.functions),
                    "has_maps": has_maps,
                    "has_filter_norm": e.name in cur.filter_norms,
                }
            )
        graph = self._graph_for(cur)
        if graph is not None:
            self._add(metadata.GRAPH_TAG, metadata.KIND_GRAPH, json_tensor_proto(graph), step, walltime)
        self._steps_written.add(step)
        manifest = {
            "version": metadata.PROTO_VERSION,
            "n_inputs": int(cur.n),
            "class_names": list(names),
            "layers": layer_rows,
            "has_predictions": has_pred,
            "has_thumbnails": has_thumbs,
            "steps_written": len(self._steps_written),
            "writer": {"package_version": __version__, "torch": torch.__version__.split("+")[0]},
        }
        self._add(metadata.MANIFEST_TAG, metadata.KIND_MANIFEST, json_tensor_proto(manifest), step, walltime)
        cur.dirty = False
        self.timings["write"] = time.perf_counter() - t0

    def _add(self, tag, kind, tensor, step, walltime, layer=None):
        summary = summary_pb2.Summary(
            value=[summary_pb2.Summary.Value(tag=tag, metadata=metadata.create_summary_metadata(kind, layer), tensor=tensor)]
        )
        self._sw._get_file_writer().add_summary(summary, step, walltime)


def _unpack_batch(batch):
    if isinstance(batch, torch.Tensor):
        return batch, None, None
    if isinstance(batch, (tuple, list)) and 1 <= len(batch) <= 3:
        x = batch[0]
        y = batch[1] if len(batch) > 1 else None
        ids = batch[2] if len(batch) > 2 else None
        return x, y, ids
    raise ValueError(f"batches must be x, (x, y) or (x, y, ids); got {type(batch).__name__} of length {len(batch) if hasattr(batch, '__len__') else '?'}")


def _exit_hook(ref):
    def flush_at_exit():
        w = ref()
        if w is not None and not w._closed:
            try:
                w.flush()
            except Exception:  # noqa: BLE001 - never raise at interpreter exit
                logger.exception("ChannelExplorerWriter: flush at exit failed")

    return flush_at_exit
