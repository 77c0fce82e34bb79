"""A PyTorch Lightning callback that logs ChannelExplorer data during ``Trainer.fit``.

Example::

    import lightning.pytorch as pl
    from tensorboard_plugin_channelexplorer.integrations.lightning import ChannelExplorerCallback

    cb = ChannelExplorerCallback(probe_x, probe_y, every_n_epochs=1, class_names=names)
    pl.Trainer(max_epochs=5, callbacks=[cb]).fit(module, train_loader)

Lightning is optional: importing this module imports ``lightning.pytorch``
(or, when only the older package is installed, ``pytorch_lightning``) and
raises an ImportError naming the package to install when neither is present.
The callback subclasses that package's ``Callback``, so use it with the
``Trainer`` of the same package.

Where the data goes:

* ``log_dir`` given: a `ChannelExplorerWriter` on that directory (its own run).
* otherwise, when the trainer has a ``TensorBoardLogger`` whose experiment is
  torch's ``SummaryWriter``: that SummaryWriter is shared, so the
  ChannelExplorer tab and Lightning's scalars are one run (``lightning_logs/
  version_N``). With tensorboardX's SummaryWriter the data is written into the
  logger's ``log_dir`` through a second event file (still the same run).
* otherwise: ``<trainer.default_root_dir>/channelexplorer``.

Steps are epochs (``trainer.current_epoch``); Lightning's scalars use the
global step, so the two never share a step axis. Only global rank 0 logs; in
a multi-process job the probe set is what rank 0 holds (see
`integrations.distributed` to gather probe shards from every rank).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch

from tensorboard_plugin_channelexplorer.writer import ChannelExplorerWriter

try:  # the unified package first; the old name second
    import lightning.pytorch as _pl
except ImportError:  # pragma: no cover - depends on what is installed
    try:
        import pytorch_lightning as _pl
    except ImportError as exc:
        raise ImportError(
            "tensorboard_plugin_channelexplorer.integrations.lightning needs PyTorch Lightning: "
            "pip install lightning"
        ) from exc

__all__ = ["ChannelExplorerCallback"]

_LOG_KWARGS = ("layers", "stage", "thumbnails", "maps")


class ChannelExplorerCallback(_pl.Callback):
    """Logs a fixed probe batch at the end of every ``every_n_epochs`` training epochs.

    Args:
        probe_images: ``[N, C, H, W]`` tensor, moved to the module's device when logged.
        probe_labels: N class ids or class name strings (see
            `ChannelExplorerWriter.log_layers`), or None.
        every_n_epochs: Log after epochs ``every_n_epochs - 1``, ``2 * every_n_epochs - 1``, ...
        class_names: Names of the class ids.
        log_dir: Own run directory; None reuses the trainer's TensorBoardLogger
            (see the module docstring).
        sample_ids: N stable ids of the probe inputs (default 0..N-1).
        **log_kwargs: ``layers``, ``stage``, ``thumbnails``, ``maps`` for `log_layers`.

    Attributes:
        writer: The `ChannelExplorerWriter` once the first epoch was logged (None before).
        logged_epochs: The epochs logged so far.
    """

    def __init__(
        self,
        probe_images: torch.Tensor,
        probe_labels=None,
        every_n_epochs: int = 1,
        class_names: Sequence[str] | None = None,
        log_dir: str | os.PathLike | None = None,
        sample_ids=None,
        **log_kwargs,
    ):
        super().__init__()
        if not isinstance(probe_images, torch.Tensor) or probe_images.ndim != 4 or probe_images.shape[0] == 0:
            raise ValueError(
                "probe_images must be a non-empty [N, C, H, W] tensor, got "
                f"{tuple(probe_images.shape) if isinstance(probe_images, torch.Tensor) else type(probe_images).__name__}"
            )
        if isinstance(every_n_epochs, bool) or not isinstance(every_n_epochs, int) or every_n_epochs < 1:
            raise ValueError(f"every_n_epochs must be a positive int, got {every_n_epochs!r}")
        if probe_labels is not None and len(probe_labels) != probe_images.shape[0]:
            raise ValueError(f"probe_labels has {len(probe_labels)} entries but probe_images has {probe_images.shape[0]}")
        bad = set(log_kwargs) - set(_LOG_KWARGS)
        if bad:
            raise ValueError(f"unexpected arguments {sorted(bad)}; allowed: {list(_LOG_KWARGS)}")
        self.probe_images = probe_images.detach()
        self.probe_labels = probe_labels
        self.every_n_epochs = every_n_epochs
        self.class_names = list(class_names) if class_names is not None else None
        self.log_dir = os.fspath(log_dir) if log_dir is not None else None
        self.sample_ids = sample_ids
        self.log_kwargs = log_kwargs
        self.writer: ChannelExplorerWriter | None = None
        self.logged_epochs: list[int] = []

    def _make_writer(self, trainer) -> ChannelExplorerWriter:
        if self.log_dir is not None:
            return ChannelExplorerWriter(self.log_dir)
        from torch.utils.tensorboard import SummaryWriter

        for logger in getattr(trainer, "loggers", []) or []:
            if type(logger).__name__ == "TensorBoardLogger":
                experiment = logger.experiment
                if isinstance(experiment, SummaryWriter):
                    return ChannelExplorerWriter(experiment)
                return ChannelExplorerWriter(logger.log_dir)
        return ChannelExplorerWriter(os.path.join(trainer.default_root_dir, "channelexplorer"))

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        epoch = int(trainer.current_epoch)
        if (epoch + 1) % self.every_n_epochs != 0 or not trainer.is_global_zero:
            return
        if getattr(trainer, "sanity_checking", False):
            return
        if self.writer is None:
            self.writer = self._make_writer(trainer)
        self.writer.log_layers(
            pl_module,
            self.probe_images.to(pl_module.device),
            self.probe_labels,
            step=epoch,
            class_names=self.class_names,
            sample_ids=self.sample_ids,
            **self.log_kwargs,
        )
        # Write the epoch now, before the next epoch's scalars reach the shared event file.
        self.writer.flush()
        self.logged_epochs.append(epoch)

    def teardown(self, trainer, pl_module, stage: str) -> None:
        if self.writer is not None:
            self.writer.close()  # only flushes a SummaryWriter it does not own
            self.writer = None
