"""Logging from a multi-process ``torch.distributed`` job (DDP, gloo or NCCL).

Example (every rank runs this; only ``dst`` writes)::

    import torch.distributed as dist
    from tensorboard_plugin_channelexplorer.integrations.distributed import DistributedChannelExplorerWriter

    ce = DistributedChannelExplorerWriter("runs/ddp")     # a writer on rank 0 only
    for epoch in range(epochs):
        train_one_epoch(ddp_model, ...)
        ce.log_layers(ddp_model, probe_x_shard, probe_y_shard, step=epoch, sample_ids=probe_ids_shard)
    ce.close()

Design: **gather to one rank, then log.** Each rank holds a shard of the
probe set (its images, int labels, int sample ids). `log_layers` is a
collective: the shards are gathered to rank ``dst`` with tensor collectives
(``all_gather`` of the sizes, then ``gather`` of padded tensors; nothing is
pickled), and rank ``dst`` logs the whole probe set as *one step* with a
normal `ChannelExplorerWriter`. Data-parallel replicas hold the same weights,
so rank ``dst`` computes every summary with its replica (a ``DistributedDataParallel``
wrapper is unwrapped first: its forward would start collectives that the
other ranks never join). This keeps one event file, one step per call and the
exact single-process format (thumbnails, maps, predictions, graph). Ranks
other than ``dst`` only send tensors.

Why not summaries computed on every rank: the probe set is small (tens to a
few hundred inputs), the logging forward is cheap next to an epoch of
training, and the writer also needs the images (thumbnails) and the
activation maps, so sending the inputs is simpler than sending everything
derived from them.

Requirements: every rank calls `log_layers` with the same ``step`` and the
same image shape ``[*, C, H, W]`` (shards may have different sizes, also 0);
labels and sample ids are integers (string ids cannot travel in tensor
collectives). With NCCL the tensors are moved to the current CUDA device for
the collectives.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.distributed as dist
from torch import nn

from tensorboard_plugin_channelexplorer.writer import ChannelExplorerWriter

__all__ = ["DistributedChannelExplorerWriter", "gather_probe"]


def _comm_device(group=None) -> torch.device:
    backend = dist.get_backend(group)
    if backend == "nccl":
        return torch.device("cuda", torch.cuda.current_device())
    return torch.device("cpu")


def _as_int_tensor(values, n: int, what: str) -> torch.Tensor:
    t = torch.as_tensor(values)
    if t.ndim != 1 or t.shape[0] != n:
        raise ValueError(f"{what} must be 1-D with {n} entries (one per image), got shape {tuple(t.shape)}")
    if t.dtype.is_floating_point or t.dtype == torch.bool or t.is_complex():
        raise ValueError(f"{what} must be integers for the distributed gather, got {t.dtype}")
    return t.to(torch.int64)


def gather_probe(images: torch.Tensor, labels=None, sample_ids=None, *, dst: int = 0, group=None):
    """Gathers every rank's probe shard to rank ``dst`` (a collective: call it on every rank).

    Args:
        images: This rank's ``[n_r, C, H, W]`` shard (``n_r`` may be 0).
        labels: ``n_r`` integer class ids, or None on every rank.
        sample_ids: ``n_r`` integer ids, or None on every rank (then rank
            ``r``'s inputs get the ids ``offset_r + 0 .. n_r - 1``, in rank order).
        dst: The receiving rank.
        group: The process group (default: the world).

    Returns:
        On ``dst``: ``(images, labels, sample_ids)`` of all ranks concatenated
        in rank order (CPU tensors; ``labels`` None when not given). On other
        ranks: None.

    Raises:
        ValueError: if torch.distributed is not initialized, or the shards
            disagree in shape / dtype / which of labels and ids are given.
    """
    if not dist.is_available() or not dist.is_initialized():
        raise ValueError("torch.distributed is not initialized; call dist.init_process_group first")
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        raise ValueError(f"images must be a [n, C, H, W] tensor, got {getattr(images, 'shape', type(images))}")
    world = dist.get_world_size(group)
    rank = dist.get_rank(group)
    if not 0 <= dst < world:
        raise ValueError(f"dst must be a rank in 0..{world - 1}, got {dst}")
    dev = _comm_device(group)
    n = int(images.shape[0])
    lab = _as_int_tensor(labels, n, "labels") if labels is not None else None
    ids = _as_int_tensor(sample_ids, n, "sample_ids") if sample_ids is not None else None

    # Sizes, shapes and flags of every shard, so all ranks can check agreement.
    info = torch.tensor([n, *images.shape[1:], int(lab is not None), int(ids is not None)], dtype=torch.int64, device=dev)
    infos = [torch.empty_like(info) for _ in range(world)]
    dist.all_gather(infos, info, group=group)
    infos = [i.cpu().tolist() for i in infos]
    if any(i[1:] != infos[0][1:] for i in infos):
        raise ValueError(f"probe shards disagree (n, C, H, W, has_labels, has_ids per rank): {infos}")
    sizes = [i[0] for i in infos]
    m = max(sizes)
    if m == 0:
        raise ValueError("every rank's probe shard is empty")

    def gather(t: torch.Tensor):
        pad = torch.zeros((m, *t.shape[1:]), dtype=t.dtype, device=dev)
        pad[: t.shape[0]] = t.to(dev)
        bufs = [torch.empty_like(pad) for _ in range(world)] if rank == dst else None
        dist.gather(pad, gather_list=bufs, dst=dst, group=group)
        if rank != dst:
            return None
        return torch.cat([b[:s].cpu() for b, s in zip(bufs, sizes)])

    x = gather(images.detach().to(torch.float32))
    y = gather(lab) if lab is not None else None
    if ids is not None:
        sid = gather(ids)
    else:
        offsets = [sum(sizes[:r]) for r in range(world)]
        sid = torch.cat([torch.arange(o, o + s) for o, s in zip(offsets, sizes)]) if rank == dst else None
    if rank != dst:
        return None
    return x, y, sid


def _unwrap(model: nn.Module) -> nn.Module:
    # DDP's forward syncs buffers across ranks: call the local replica directly.
    from torch.nn.parallel import DistributedDataParallel

    while isinstance(model, DistributedDataParallel):
        model = model.module
    return model


class DistributedChannelExplorerWriter:
    """A `ChannelExplorerWriter` on rank ``dst`` fed with the probe shards of every rank.

    Create it on every rank, after ``dist.init_process_group``.

    Args:
        log_dir: Run directory (used on ``dst`` only), or a SummaryWriter that
            rank ``dst`` already writes its scalars to.
        dst: The rank that writes (default 0).
        group: The process group (default: the world).
        **writer_kwargs: Passed to `ChannelExplorerWriter` on ``dst``.

    Attributes:
        writer: The `ChannelExplorerWriter` on ``dst``, None elsewhere.
    """

    def __init__(self, log_dir=None, *, dst: int = 0, group=None, **writer_kwargs):
        if not dist.is_available() or not dist.is_initialized():
            raise ValueError("torch.distributed is not initialized; call dist.init_process_group first")
        if isinstance(dst, bool) or not isinstance(dst, int) or not 0 <= dst < dist.get_world_size(group):
            raise ValueError(f"dst must be a rank in 0..{dist.get_world_size(group) - 1}, got {dst!r}")
        self.dst = dst
        self.group = group
        self.rank = dist.get_rank(group)
        self.writer = ChannelExplorerWriter(log_dir, **writer_kwargs) if self.rank == dst else None

    @property
    def is_writer(self) -> bool:
        """True on the rank that writes."""
        return self.writer is not None

    def log_layers(self, model: nn.Module, images: torch.Tensor, labels=None, *, step: int,
                   class_names: Sequence[str] | None = None, sample_ids=None, **log_kwargs) -> int:
        """Gathers the shards and logs them as one step (a collective: call it on every rank).

        Args:
            model: The model (or its DDP wrapper); rank ``dst`` runs its replica.
            images: This rank's ``[n_r, C, H, W]`` probe shard.
            labels: ``n_r`` integer class ids, or None on every rank.
            step: The step, the same on every rank.
            class_names: Names of the class ids.
            sample_ids: ``n_r`` integer ids, or None on every rank (see `gather_probe`).
            **log_kwargs: ``layers``, ``stage``, ``thumbnails``, ``maps``.

        Returns:
            The number of inputs logged (on ``dst``; 0 elsewhere).
        """
        gathered = gather_probe(images, labels, sample_ids, dst=self.dst, group=self.group)
        if gathered is None:
            return 0
        x, y, ids = gathered
        self.writer.log_layers(_unwrap(model), x, y, step=step, class_names=class_names, sample_ids=ids, **log_kwargs)
        return int(x.shape[0])

    def flush(self) -> None:
        """Writes the pending step on ``dst`` (no-op elsewhere)."""
        if self.writer is not None:
            self.writer.flush()

    def close(self) -> None:
        """Closes the writer on ``dst``; a collective: call it on every rank.

        The closing barrier lets gloo's worker thread free the finished gather
        works (which hold Python tensors) while every rank is still inside a
        collective; otherwise destroying the process group right after the
        last gather can deadlock on the GIL (seen with DDP's Reducer).
        """
        if self.writer is not None:
            self.writer.close()
        if dist.is_available() and dist.is_initialized():
            dist.barrier(group=self.group)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
