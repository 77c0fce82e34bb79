"""Filter weights reduced to channel-to-channel matrices, for the edges between layers.

A convolution ``y[o] = sum_i w[o, i] * x[i]`` connects input channel ``i``
to output channel ``o`` through the kernel ``w[o, i]``. The writer stores,
per layer, ``weight_abs[o, i] = sum_k |w[o, i, k]|`` and
``weight_sum[o, i] = sum_k w[o, i, k]`` (float32 ``[C_out, C_in]``), so the
channel-edge views can aggregate strong positive and negative bundles
(CNNVis). Only convolutions whose weights do map every input channel to
every output channel are reduced: ``groups == 1`` and not transposed.
Depthwise, grouped and transposed convolutions, linear layers and
normalizations give None (a view then says why it draws no edges).
"""

from __future__ import annotations

import torch

__all__ = ["filter_weights", "weights_bytes"]


def _reducible_weight(module: torch.nn.Module) -> torch.Tensor | None:
    """The weight of a groups=1, non-transposed convolution, else None."""
    weight = getattr(module, "weight", None)
    if not isinstance(module, torch.nn.modules.conv._ConvNd) or not isinstance(weight, torch.Tensor):
        return None
    if module.transposed or module.groups != 1 or weight.ndim < 3 or weight.numel() == 0:
        return None
    return weight


def filter_weights(module: torch.nn.Module) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``(weight_abs, weight_sum)``, float32 ``[C_out, C_in]`` on the CPU, or None.

    Args:
        module: The layer's weight module (see `LayerEntry.weight_module`).

    Raises:
        ValueError: If ``module`` is not an ``nn.Module``.
    """
    if not isinstance(module, torch.nn.Module):
        raise ValueError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    weight = _reducible_weight(module)
    if weight is None:
        return None
    with torch.no_grad():
        w = weight.detach().to("cpu", torch.float32).flatten(2)
        return w.abs().sum(dim=2), w.sum(dim=2)


def weights_bytes(module: torch.nn.Module) -> int:
    """Bytes `filter_weights` stores for ``module`` (both float32 arrays), 0 when it gives None."""
    weight = _reducible_weight(module)
    return 0 if weight is None else 2 * 4 * int(weight.shape[0]) * int(weight.shape[1])
