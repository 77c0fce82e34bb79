"""One forward pass with temporary hooks, the model's state restored afterwards.

Layer discovery, capture, the hooked model graph and gradient importance all
run the user's model with hooks of their own. `hooked_forward` is the one
place that registers those hooks and puts the model back as it was: hooks
are removed in ``finally`` (also when the forward or backward raises), then
the ``training`` flag of every module, and, where asked, the buffers
(BatchNorm running statistics), the RNG state and the parameters' ``.grad``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn
from torch.utils import _pytree as pytree

__all__ = ["HookSet", "hooked_forward"]


class HookSet:
    """Hooks registered inside `hooked_forward`; all removed when it exits."""

    def __init__(self):
        self._handles: list = []

    def pre(self, module: nn.Module, fn, *, with_kwargs: bool = False) -> None:
        """Registers a forward pre-hook on ``module``."""
        self._handles.append(module.register_forward_pre_hook(fn, with_kwargs=with_kwargs))

    def post(self, module: nn.Module, fn) -> None:
        """Registers a forward hook on ``module``."""
        self._handles.append(module.register_forward_hook(fn))

    def tensor(self, tensor: torch.Tensor, fn) -> None:
        """Registers a gradient hook on an activation tensor."""
        self._handles.append(tensor.register_hook(fn))

    def remove(self) -> None:
        """Removes every hook (idempotent)."""
        while self._handles:
            self._handles.pop().remove()


def _cuda_devices(model: nn.Module, inputs) -> list[int]:
    devices = set()
    tensors = list(model.parameters()) + list(model.buffers())
    tensors += [v for v in pytree.tree_leaves(inputs) if isinstance(v, torch.Tensor)]
    for t in tensors:
        if t.device.type == "cuda":
            devices.add(t.device.index if t.device.index is not None else torch.cuda.current_device())
    return sorted(devices)


@contextlib.contextmanager
def hooked_forward(
    model: nn.Module,
    *,
    eval_mode: bool = False,
    grad: bool = False,
    restore_buffers: bool = False,
    restore_grads: bool = False,
    fork_rng_inputs=None,
) -> Iterator[HookSet]:
    """Context for one forward (and backward) with temporary hooks.

    Every module's ``training`` flag is restored on exit, whatever happens
    inside; the hooks registered on the yielded `HookSet` are removed first.

    Args:
        model: The model.
        eval_mode: Put every module in eval mode for the pass.
        grad: Run with autograd enabled (else under ``torch.no_grad()``).
        restore_buffers: Copy every buffer back on exit (BatchNorm running
            statistics updated by a train-mode forward).
        restore_grads: Put back each parameter's ``.grad`` (the tensor
            object, or None) on exit, so a backward inside leaves no trace.
        fork_rng_inputs: When not None, the RNG state is forked for the pass
            (dropout draws leave the global generators as they were); the
            given inputs name the CUDA devices to fork besides the model's.

    Yields:
        The `HookSet` to register hooks on.
    """
    hooks = HookSet()
    training = [(m, m.training) for m in model.modules()]
    saved_buffers = [(b, b.detach().clone()) for b in model.buffers()] if restore_buffers else []
    saved_grads = [(p, p.grad) for p in model.parameters()] if restore_grads else []
    with contextlib.ExitStack() as stack:
        if fork_rng_inputs is not None:
            stack.enter_context(torch.random.fork_rng(devices=_cuda_devices(model, fork_rng_inputs)))
        stack.enter_context(torch.enable_grad() if grad else torch.no_grad())
        try:
            if eval_mode:
                for m, _ in training:
                    m.training = False
            yield hooks
        finally:
            hooks.remove()
            with torch.no_grad():
                for b, v in saved_buffers:
                    if b.shape == v.shape:
                        b.copy_(v)
            for p, g in saved_grads:
                p.grad = g
            for m, flag in training:
                m.training = flag
