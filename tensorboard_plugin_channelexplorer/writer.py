"""The logging API: `ChannelExplorerWriter`.

Example::

    from tensorboard_plugin_channelexplorer import ChannelExplorerWriter

    with ChannelExplorerWriter("runs/exp1") as ce_writer:
        for epoch in range(epochs):
            train(...)
            ce_writer.log_layers(model, batch)  # (images, labels): step 0, 1, 2...

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

The module is over 400 lines because of the public docstrings (about 180
of its lines: every argument of the logging API is documented here); the
parts live in `writer_inputs` (steps, batches, labels, ids),
`step_accumulator` (merging the calls of a step, the maps budget),
`records` (step -> summaries) and `fast_crc` (native record checksums).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import logging
import time
import warnings
import weakref
from collections.abc import Sequence

import torch
from PIL import Image
from tensorboard.compat.proto import event_pb2
from torch import nn

from tensorboard_plugin_channelexplorer import graph as graph_mod
from tensorboard_plugin_channelexplorer.capture import Discovery, discover_layers, model_device, run_capture, select_layers
from tensorboard_plugin_channelexplorer.fast_crc import use_native_crc
from tensorboard_plugin_channelexplorer.images import (
    DEFAULT_MAP_SIDE,
    DEFAULT_MAPS_BUDGET_BYTES,
    DEFAULT_THUMBNAIL_SIDE,
    thumbnails_png,
)
from tensorboard_plugin_channelexplorer.importance import channel_importance
from tensorboard_plugin_channelexplorer.metadata import SUMMARY_FUNCTIONS
from tensorboard_plugin_channelexplorer.records import step_summaries
from tensorboard_plugin_channelexplorer.step_accumulator import StepData
from tensorboard_plugin_channelexplorer.summaries import warm_cpu_kernel
from tensorboard_plugin_channelexplorer.timeline_records import FullSteps
from tensorboard_plugin_channelexplorer.writer_inputs import (
    LabelResolver,
    as_step,
    find_logits,
    resolve_ids,
    split_batch,
    unpack_loader_batch,
)

from tensorboard_plugin_channelexplorer.views import _validate as _views_validate  # noqa: E402
from tensorboard_plugin_channelexplorer.views import timeline as _timeline_view  # noqa: F401, E402

logger = logging.getLogger(__name__)

__all__ = ["ChannelExplorerWriter"]

# Two float32 [C_out, C_in] matrices per conv layer: small for a small CNN,
# tens of MiB for a wide network, so a step's share is bounded.
DEFAULT_WEIGHTS_BUDGET_BYTES = 4 * 2**20


def _warm_up() -> None:
    # The training script imports this module once; the first log_layers
    # would otherwise pay numba's kernel load and thread-pool start, and the
    # compact timeline record's thread limit (threadpoolctl's scan of the
    # loaded libraries; its k-NN score is numpy, so no scikit-learn), and
    # PIL's image plugins, which its first PNG thumbnail loads.
    # A failure here only moves that cost back.
    try:
        with _views_validate.single_threaded("numpy"):
            pass
        # torch's OpenMP pool must start before numba's: the other way round,
        # every later forward ran ~45% slower (EfficientNet-Lite0, 2 cores).
        with torch.no_grad():
            torch.nn.functional.conv2d(torch.zeros(1, 2, 8, 8), torch.zeros(2, 2, 3, 3))
        warm_cpu_kernel()
        Image.preinit()
        # Those imports leave many new objects; the full collection
        # they trigger (~0.2 s here) would otherwise fall in the first call.
        gc.collect()
    except Exception:  # noqa: BLE001 - never fail the user's import
        logger.debug("ChannelExplorer: the summaries' kernel warm-up failed", exc_info=True)


_warm_up()


@contextlib.contextmanager
def _timed(timings: dict, key: str):
    t0 = time.perf_counter()
    try:
        yield
    finally:
        timings[key] = time.perf_counter() - t0


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
        weights_budget_bytes: Byte budget of the filter weights of one step
            (4 MiB by default; 0 stores none): per conv layer whose filters map
            every input channel to every output channel, the float32
            ``[C_out, C_in]`` sums of ``|w|`` and of ``w`` over the kernel
            (npz keys ``weight_abs``, ``weight_sum``; `weights`), for the
            layers in model order that still fit.
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
        full_every: Keep every ``full_every``-th step in full (layer blobs,
            maps, thumbnails), plus the first step, the steps passed to
            `keep_full` and the last step before `close` (rewritten in full
            then); the other steps get a manifest and a compact timeline
            record only (separability scores, per-layer means, gradient
            norms; `timeline_records`), so a long run's TensorBoard memory
            stays bounded (``docs/steps.md``). None (default): every step in full.
        **writer_kwargs: Passed to SummaryWriter when ``log_dir`` is a path.

    Attributes:
        timings: Seconds spent in the parts of the last call
            (``discover``, ``capture`` = forward + hooks + summaries + maps,
            ``importance`` when asked,
            ``thumbnails``, ``graph``, ``write``).
    """

    def __init__(
        self,
        log_dir=None,
        *,
        functions: Sequence[str] = SUMMARY_FUNCTIONS,
        maps_budget_bytes: int = DEFAULT_MAPS_BUDGET_BYTES,
        weights_budget_bytes: int = DEFAULT_WEIGHTS_BUDGET_BYTES,
        map_side: int = DEFAULT_MAP_SIDE,
        thumbnail_side: int = DEFAULT_THUMBNAIL_SIDE,
        eval_mode: bool = True,
        mark_rewrites: bool | None = None,
        full_every: int | None = None,
        **writer_kwargs,
    ):
        from torch.utils.tensorboard import SummaryWriter

        if isinstance(functions, str):
            functions = (functions,)
        functions = tuple(functions)
        bad = [f for f in functions if f not in SUMMARY_FUNCTIONS]
        if not functions or bad or len(set(functions)) != len(functions):
            raise ValueError(f"functions must be distinct names from {SUMMARY_FUNCTIONS}, got {functions}")
        sizes = {"maps_budget_bytes": maps_budget_bytes, "weights_budget_bytes": weights_budget_bytes, "map_side": map_side,
                 "thumbnail_side": thumbnail_side}
        for name, v in sizes.items():
            budget = name.endswith("_bytes")
            if isinstance(v, bool) or not isinstance(v, int) or v < (0 if budget else 1):
                raise ValueError(f"{name} must be a {'non-negative' if budget else 'positive'} int, got {v!r}")
        self._full = FullSteps(full_every)
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
        self.weights_budget_bytes = weights_budget_bytes
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
        self._labels = LabelResolver()
        self._last_step: int | None = None
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
        batch,
        labels=None,
        *,
        step: int | None = None,
        global_step: int | None = None,
        class_names: Sequence[str] | None = None,
        sample_ids=None,
        layers=None,
        stage: str = "pre",
        thumbnails: bool = True,
        maps: bool = True,
        predictions: bool = True,
        importance: bool = False,
        write: bool = True,
        _expected_inputs: int | None = None,
    ):
        """Runs ``model(images)`` once and records its layers' channel summaries.

        Typical use, once per epoch on a fixed probe batch::

            ce_writer.log_layers(model, batch)

        Args:
            model: The model (called as ``model(images)``; images are moved to
                its device).
            batch: The inputs, as a data loader yields them: an
                ``[N, C, H, W]`` images tensor (any float dtype, any memory
                format); a tuple or list ``(images, labels, ...)`` (items after
                the labels are ignored); or a dict with one images key
                (``image``, ``images``, ``pixel_values`` or ``input``) and at
                most one labels key (``label``, ``labels`` or ``target``),
                other keys being ignored.
            labels: N class ids (tensor, array or list of ints) or N class
                name strings (mapped to ids; new names are appended to the
                class names in order of first appearance). Given, they win
                over the batch's labels. None and none in the batch: every
                input gets class 0 (``"all"`` unless ``class_names`` says
                otherwise).
            step: The step to record the data at (e.g. the epoch), an int
                >= 0, never decreasing. None: the writer's own counter, one
                past the last step this writer logged (0 at the first call),
                so each call without a step records a new step. Calls with
                the same explicit step accumulate.
            global_step: The same as ``step``, named as in
                `torch.utils.tensorboard.SummaryWriter`; give one of the two.
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
            importance: Also run one forward and backward pass of the summed
                cross-entropy of the logits against ``labels`` (which must
                then be given, as the model's class ids) and store, per
                channel of each layer, the first-order Taylor importance and
                the gradient norm (`importance`). The model is left as it
                was (parameter ``.grad``, BatchNorm statistics, train/eval
                flags, no hook left). Costs about one training step.
            write: Hand the accumulated step to the event writer now. Pass
                False to all but the last of many calls with the same step, to
                avoid rewriting the step each time (`flush`, `close` and the
                next step write it anyway).

        Raises:
            ValueError: On invalid arguments (see the messages), an ambiguous
                batch (no or several images keys, several labels keys, a
                sequence whose first item is not 4-D or whose second is not
                1-D), ``step`` and ``global_step`` that differ, a decreasing
                step, or a layer selection / stage that differs from earlier
                calls of the same step.
        """
        timings: dict[str, float] = {}
        images, batch_labels = split_batch(batch)
        labels = batch_labels if labels is None else labels
        if importance and labels is None:
            raise ValueError("importance=True needs labels (the model's class ids): pass labels= or a batch with labels")
        step, n = self._check_call(model, images, self._resolve_step(step, global_step), stage)
        label_ids, names = self._labels.resolve(labels, n, class_names, self._current.labels if self._current else ())
        ids = resolve_ids(sample_ids, n)
        self._check_step_order(step)
        x = images.to(model_device(model, images.device))
        with _timed(timings, "discover"):
            disc = self._discovery(model, x[:2])
            entries = self._select(disc, model, layers)
        cur = self._step_data(step)
        signature = cur.check_call(entries, stage, ids is not None)
        map_sizes, map_count = cur.plan_maps(entries, n, _expected_inputs or 0, self.maps_budget_bytes, self.map_side, maps)
        with _timed(timings, "capture"):
            result = run_capture(
                model, x, entries, stage=stage, functions=self.functions,
                map_sizes=map_sizes, map_count=map_count, eval_mode=self.eval_mode,
            )  # fmt: skip
        imp = None
        if importance:
            with _timed(timings, "importance"):
                imp = channel_importance(model, x, label_ids, entries, eval_mode=self.eval_mode)
        with _timed(timings, "thumbnails"):
            thumbs = thumbnails_png(images, self.thumbnail_side) if thumbnails and cur.thumbnails is not None else None
        with _timed(timings, "graph"):
            if not self._graph_done:
                self._graph_done = True
                self._graph = self._extract_graph(model, x[:1], disc)
        # Nothing above touched the step state, so a failing forward leaves it unchanged.
        cur.add_call(
            model=model, entries=entries, signature=signature, result=result, label_ids=label_ids, ids=ids,
            logits=find_logits(result.output), n_classes=len(names) if names is not None else int(label_ids.max()) + 1,
            predictions=predictions, thumbs=thumbs, map_sizes=map_sizes, map_count=map_count, importance=imp,
            weights_budget=self.weights_budget_bytes,
        )  # fmt: skip
        if names is not None:
            self._labels.class_names = list(names)
        self._current = cur
        self._last_step = step
        self.timings = timings
        if write:
            self._write_current()

    def log_dataloader(
        self,
        model: nn.Module,
        loader,
        *,
        step: int | None = None,
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
            step: The step; None: the writer's next step (see `log_layers`).
            class_names: Class names (see `log_layers`).
            max_inputs: Stop after this many inputs (the last batch is cut).
            progress: Show a tqdm progress bar.
            **log_layers_kwargs: ``layers``, ``stage``, ``thumbnails``, ``maps``, ``predictions``, ``importance``.

        Returns:
            The number of inputs logged.
        """
        from tqdm.auto import tqdm

        if max_inputs is not None and (isinstance(max_inputs, bool) or not isinstance(max_inputs, int) or max_inputs < 1):
            raise ValueError(f"max_inputs must be a positive int or None, got {max_inputs!r}")
        step = self._resolve_step(step, None)
        bad = set(log_layers_kwargs) - {"layers", "stage", "thumbnails", "maps", "predictions", "importance"}
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
                x, y, ids = unpack_loader_batch(batch)
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

    def keep_full(self, step: int | None = None) -> None:
        """Keeps a step in full although `full_every` would write it compact.

        Args:
            step: the current step (rewritten in full now if it was written
                compact) or a later one; None: the current step.

        Raises:
            ValueError: `step` is before the current step (its data is gone),
                or None before any step was logged.
        """
        current = self._current.step if self._current is not None else None
        if step is None:
            if current is None:
                raise ValueError("keep_full() without a step needs a step logged first")
            step = current
        step = as_step(step)
        if current is not None and step < current:
            raise ValueError(f"step {step} is before the current step {current}; only the current or a later "
                             "step can be kept in full")
        self._full.request(step)
        if step == current and not self._current.dirty:
            self._write_current(full=True)  # written compact already: write it again in full

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
        self._write_current(full=True)  # the last step is kept in full
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

    def _check_call(self, model, images, step, stage) -> tuple[int, int]:
        if self._closed:
            raise ValueError("this ChannelExplorerWriter is closed")
        step = as_step(step)
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
        return step, n

    def _resolve_step(self, step, global_step):
        if step is not None and global_step is not None and step != global_step:
            raise ValueError(f"step={step!r} and global_step={global_step!r} differ; give one of them")
        step = global_step if step is None else step
        if step is None:
            return 0 if self._last_step is None else self._last_step + 1
        return step

    def _check_step_order(self, step: int) -> None:
        if self._current is not None and step < self._current.step:
            raise ValueError(
                f"step {step} is smaller than the current step {self._current.step}; steps must not "
                "decrease (TensorBoard would discard the newer data); use a new log_dir for a new run"
            )

    def _step_data(self, step: int) -> StepData:
        """The step's accumulator; a newer step first writes the current one."""
        if self._current is not None and step > self._current.step:
            self._write_current()
            self._current = None
        return self._current or StepData(step)

    def _discovery(self, model: nn.Module, example: torch.Tensor) -> Discovery:
        key = id(model)
        hit = self._discoveries.get(key)
        if hit is not None and hit[0]() is model:
            return hit[1]
        disc = discover_layers(model, example, eval_mode=self.eval_mode)
        self._discoveries[key] = (weakref.ref(model), disc)
        return disc

    @staticmethod
    def _select(disc: Discovery, model: nn.Module, layers):
        entries = select_layers(disc, model, layers)
        if not entries:
            # Only the inputs get logged; say why instead of writing an empty graph silently.
            warnings.warn(
                f"{type(model).__name__} has no layer with a 4-D [N, C, H, W] output in the default "
                "set (conv chains, pooling, upsampling, normalization); only inputs are logged. "
                "Pass layers=... to choose layers explicitly.",
                stacklevel=3,
            )
        return entries

    def _extract_graph(self, model, example, disc):
        try:
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

    def _write_current(self, full: bool | None = None):
        cur = self._current
        if cur is None or not (cur.dirty or (full and self._full.written_compact(cur.step))):
            return
        full = self._full.is_full(cur.step) if not full else True
        t0 = time.perf_counter()
        walltime = time.time()
        file_writer = self._sw._get_file_writer()
        use_native_crc(self._sw)
        if self.mark_rewrites and (not self._steps_written or cur.step in self._steps_written):
            # The Python loader ignores the first START of a run and, on a
            # later one, purges every record at steps >= its step.
            start = event_pb2.Event(session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START))
            file_writer.add_event(start, cur.step, walltime)
        self._steps_written.add(cur.step)
        records = step_summaries(
            cur, class_names=self._labels.class_names, functions=self.functions, graph=self._graph,
            steps_written=len(self._steps_written), full=full,
        )  # fmt: skip
        self._full.mark_written(cur.step, full)
        for record in records:
            file_writer.add_summary(record, cur.step, walltime)
        cur.dirty = False
        self.timings["write"] = time.perf_counter() - t0


def _exit_hook(ref):
    def flush_at_exit():
        w = ref()
        if w is not None and not w._closed:
            try:
                w._write_current(full=True)
                w.flush()
            except Exception:  # noqa: BLE001 - never raise at interpreter exit
                logger.exception("ChannelExplorerWriter: flush at exit failed")

    return flush_at_exit
