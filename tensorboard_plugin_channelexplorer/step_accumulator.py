"""One step's data, accumulated over the `log_layers` calls of that step.

Calls with the same step add their inputs up. The activation maps of a step
share one byte budget: the map side is fixed by the first call (from the
number of inputs the step is expected to hold), and later calls fill what is
left of the budget, so only the first inputs of a step may have maps.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from tensorboard_plugin_channelexplorer.capture import CaptureResult, LayerEntry
from tensorboard_plugin_channelexplorer.images import choose_map_sizes
from tensorboard_plugin_channelexplorer.summaries import filter_norms
from tensorboard_plugin_channelexplorer.weights import filter_weights, weights_bytes

__all__ = ["StepData"]


class StepData:
    """Everything accumulated for one step.

    A call is checked with `check_call`, planned with `plan_maps`, and, once
    its forward succeeded, merged with `add_call`; a call that fails before
    `add_call` leaves the step unchanged.
    """

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
        # Per layer: (weight_abs, weight_sum) [C_out, C_in], within a byte budget.
        self.weights: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.weights_bytes = 0
        # Per layer: sums over inputs of the Taylor terms and of the squared
        # gradient norms, and how many inputs they cover.
        self.importance: dict[str, dict[str, np.ndarray]] = {}
        self.importance_n: dict[str, int] = {}
        self.map_sizes: dict[str, tuple[int, int]] | None = None
        self.map_bytes_per_input = 0
        self.map_bytes_used = 0
        self.maps: dict[str, list[np.ndarray]] = {}
        self.map_indices: list[np.ndarray] = []
        self.map_range: dict[str, list[float]] = {}
        self.maps_enabled = True
        self.dirty = False

    def check_call(self, entries: Sequence[LayerEntry], stage: str, has_ids: bool) -> tuple:
        """Checks that a call matches the earlier calls of the step; returns its signature.

        Raises:
            ValueError: If the layers or stage differ, or sample ids are given
                in some calls and not in others.
        """
        signature = (tuple(e.name for e in entries), stage)
        if self.signature is not None and self.signature != signature:
            raise ValueError(
                f"layers/stage differ from the earlier calls of step {self.step}: "
                f"{list(self.signature[0])} ({self.signature[1]}) vs {list(signature[0])} ({stage})"
            )
        if self.user_ids is not None and self.user_ids != has_ids:
            raise ValueError(f"sample_ids must be given in every call of step {self.step} or in none")
        return signature

    def plan_maps(self, entries, n: int, expected: int, budget: int, side: int, maps: bool):
        """Map sizes and how many of this call's ``n`` inputs get maps.

        Returns:
            ``(map_sizes or None, map_count)``.
        """
        if not maps:
            self.maps_enabled = False
            return None, 0
        if not self.maps_enabled or budget <= 0:
            return None, 0
        if self.map_sizes is None:
            self.map_sizes, _ = choose_map_sizes({e.name: e.shape for e in entries}, max(n, expected), budget, side)
            self.map_bytes_per_input = sum(e.shape[0] * h * w for e, (h, w) in ((e, self.map_sizes[e.name]) for e in entries))
        per = max(1, self.map_bytes_per_input)
        count = int(min(n, max(0, budget - self.map_bytes_used) // per))
        return (self.map_sizes if count > 0 else None), count

    def add_call(
        self,
        *,
        model: nn.Module,
        entries: Sequence[LayerEntry],
        signature: tuple,
        result: CaptureResult,
        label_ids: np.ndarray,
        ids: np.ndarray | None,
        logits: torch.Tensor | None,
        n_classes: int,
        predictions: bool,
        thumbs: list[bytes] | None,
        map_sizes,
        map_count: int,
        importance: dict[str, dict[str, np.ndarray]] | None = None,
        weights_budget: int = 0,
    ) -> None:
        """Merges one successful call into the step.

        ``importance`` maps a layer name to per-channel sums over this call's
        inputs (``taylor_sum``, ``grad_sq_sum``), see `importance.channel_importance`.
        Filter weights (`weights.filter_weights`) are kept for the layers, in
        model order, whose matrices still fit in ``weights_budget`` bytes for
        the step; a layer that does not fit is skipped and later, smaller
        ones may still fit.
        """
        n = int(label_ids.shape[0])
        self.signature = signature
        if self.entries is None:
            self.entries = list(entries)
        self.user_ids = ids is not None
        if ids is None:
            ids = np.arange(self.n, self.n + n, dtype=np.int64)
        self.labels.append(label_ids)
        self.sample_ids.append(ids)
        self._add_predictions(logits, n, n_classes, predictions)
        if thumbs is None:
            self.thumbnails = None
        elif self.thumbnails is not None:
            self.thumbnails.extend(thumbs)
        if map_sizes is not None:
            self.map_indices.append(np.arange(self.n, self.n + map_count, dtype=np.int64))
            self.map_bytes_used += map_count * self.map_bytes_per_input
        modules = dict(model.named_modules())
        for e in entries:
            if e.name in result.summaries:
                self._add_layer(e, result, modules, map_sizes is not None)
                self._add_weights(e, modules, weights_budget)
        for name, sums in (importance or {}).items():
            store = self.importance.setdefault(name, {})
            for key, v in sums.items():
                store[key] = store[key] + v if key in store else v
            self.importance_n[name] = self.importance_n.get(name, 0) + n
        self.n += n
        self.dirty = True

    def _add_predictions(self, logits, n: int, n_classes: int, predictions: bool) -> None:
        if predictions and self.predictions is not None and logits is not None and logits.shape[0] == n and logits.shape[1] >= max(2, n_classes):
            probs = torch.softmax(logits.detach().float(), dim=1)
            p, k = probs.max(dim=1)
            self.predictions.append(k.cpu().numpy().astype(np.int64))
            self.probabilities.append(p.cpu().numpy().astype(np.float32))
        else:
            self.predictions = None

    def _add_weights(self, e: LayerEntry, modules: dict, budget: int) -> None:
        module = modules.get(e.weight_module) if e.weight_module is not None else None
        if module is None or budget <= 0:
            return
        size = weights_bytes(module)
        if size == 0 or (e.name not in self.weights and self.weights_bytes + size > budget):
            return
        reduced = filter_weights(module)
        if reduced[0].shape[0] != self.shapes[e.name][0]:
            return  # the filters do not map to this entry's channels
        if e.name not in self.weights:
            self.weights_bytes += size
        self.weights[e.name] = (reduced[0].numpy(), reduced[1].numpy())

    def _add_layer(self, e: LayerEntry, result: CaptureResult, modules: dict, with_maps: bool) -> None:
        self.stages.setdefault(e.name, result.stages.get(e.name, ["pre"]))
        self.shapes.setdefault(e.name, result.shapes.get(e.name, e.shape))
        store = self.summaries.setdefault(e.name, {})
        for key, v in result.summaries[e.name].items():
            store.setdefault(key, []).append(v.numpy())
        if e.weight_module is not None and e.weight_module in modules:
            fn = filter_norms(modules[e.weight_module])
            if fn is not None and fn.numel() == self.shapes[e.name][0]:
                self.filter_norms[e.name] = fn.detach().to("cpu", torch.float32).numpy()
        if with_maps and e.name in result.maps:
            m, lo, hi = result.maps[e.name]
            self.maps.setdefault(e.name, []).append(m.numpy())
            rng = self.map_range.setdefault(e.name, [lo, hi])
            rng[0], rng[1] = min(rng[0], lo), max(rng[1], hi)
