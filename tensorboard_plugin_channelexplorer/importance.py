"""Gradient-based channel importance: one backward pass of the loss on the probe batch.

For each selected layer and channel ``c``, with activations ``a[n, c, h, w]``
(the entry's ``pre`` tensor) and the gradient ``g = dL/da`` of the summed
cross-entropy ``L = sum_n CE(logits_n, y_n)`` (so ``g[n]`` is input ``n``'s
own gradient, independent of the batch size):

* **Taylor importance** (first-order Taylor expansion of the loss change
  when the channel is removed; Molchanov et al., "Pruning Convolutional
  Neural Networks for Resource Efficient Inference", ICLR 2017):
  ``taylor[c] = mean_n |sum_hw a[n, c] * g[n, c]|``.
* **Gradient norm** (ReVACNN's per-filter gradient signal):
  ``grad_norm[c] = sqrt(mean_n sum_hw g[n, c]^2)``, the RMS over inputs of
  the per-input gradient norm.

The gradient is taken with ``torch.autograd.grad`` with respect to a copy of
the input, so no parameter's ``.grad`` is touched (and `hooked_forward`
restores them anyway); hooks are removed, and every module's ``training``
flag and buffer restored, even when the forward or backward raises.
Activations are copied in the forward hook, before a following in-place op
(``ReLU(inplace=True)``) can change them; the tensor hook registered there
receives the gradient with respect to that same (pre in-place) value.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tensorboard_plugin_channelexplorer.discovery import LayerEntry
from tensorboard_plugin_channelexplorer.forward import hooked_forward
from tensorboard_plugin_channelexplorer.writer_inputs import find_logits

__all__ = ["channel_importance"]


def _check_logits(output, labels: torch.Tensor) -> torch.Tensor:
    logits = find_logits(output)
    n = labels.shape[0]
    if logits is None or logits.shape[0] != n:
        raise ValueError(
            "importance=True needs a model whose output holds [N, K] classification logits "
            f"(N = {n}); got {type(output).__name__}"
            + (f" with a first 2-D tensor of shape {tuple(logits.shape)}" if logits is not None else "")
        )
    if int(labels.max()) >= logits.shape[1]:
        raise ValueError(
            f"importance=True needs labels that are the model's class ids: labels go up to "
            f"{int(labels.max())} but the logits have {logits.shape[1]} classes"
        )
    if not logits.requires_grad:
        raise ValueError("importance=True needs a differentiable model: its logits do not require grad")
    return logits


def channel_importance(
    model: nn.Module,
    images: torch.Tensor,
    labels: np.ndarray | torch.Tensor,
    entries: Sequence[LayerEntry],
    eval_mode: bool = True,
) -> dict[str, dict[str, np.ndarray]]:
    """Per-channel sums over the inputs of the Taylor terms and squared gradient norms.

    Args:
        model: The model, called as ``model(images)``; its output (or its
            first 2-D tensor) must be classification logits.
        images: ``[N, C, H, W]`` batch on the model's device.
        labels: N class ids of the model's classes.
        entries: The layers (their ``pre`` tensors are used).
        eval_mode: Run with every module in eval mode.

    Returns:
        Entry name -> ``{"taylor_sum": float64 [C], "grad_sq_sum": float64 [C]}``,
        summed over the N inputs (divide by N for the means above), for the
        entries whose tensor took part in the loss.

    Raises:
        ValueError: If the output has no logits for the N inputs, the labels
            exceed the classes, or the logits do not require grad.
        Exception: Whatever the forward or backward raises (the model is
            restored first).
    """
    labels = torch.as_tensor(np.asarray(labels), dtype=torch.long, device=images.device)
    modules = dict(model.named_modules())
    wanted: dict[str, dict[int, list[LayerEntry]]] = defaultdict(lambda: defaultdict(list))
    for e in entries:
        wanted[e.pre_module][e.pre_call].append(e)
    sums: dict[str, dict[str, np.ndarray]] = {}
    with hooked_forward(
        model, eval_mode=eval_mode, grad=True, restore_buffers=True, restore_grads=True, fork_rng_inputs=(images,)
    ) as hooks:

        def make_hook(mod_name: str):
            calls = wanted[mod_name]
            counter = [0]

            def hook(_m, _args, output):
                k = counter[0]
                counter[0] += 1
                if not calls.get(k) or not isinstance(output, torch.Tensor) or output.ndim != 4 or not output.requires_grad:
                    return None
                a = output.detach().to(torch.float32, copy=True)
                names = [e.name for e in calls[k]]

                def on_grad(g, a=a, names=names):
                    g = g.detach().to(torch.float32)
                    taylor = (a * g).sum(dim=(2, 3)).abs().sum(dim=0)
                    grad_sq = g.square().sum(dim=(2, 3)).sum(dim=0)
                    for name in names:
                        sums[name] = {
                            "taylor_sum": taylor.to("cpu", torch.float64).numpy(),
                            "grad_sq_sum": grad_sq.to("cpu", torch.float64).numpy(),
                        }

                hooks.tensor(output, on_grad)
                return None

            return hook

        for mod_name in wanted:
            hooks.post(modules[mod_name], make_hook(mod_name))
        x = images.detach().requires_grad_(True)
        logits = _check_logits(model(x), labels)
        loss = F.cross_entropy(logits.float(), labels, reduction="sum")
        torch.autograd.grad(loss, x)
    return sums
