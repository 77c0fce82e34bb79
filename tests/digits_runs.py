"""Logdirs of the digits CNN (``examples/digits.py``) for the browser tests."""

from __future__ import annotations

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_digits_runs(root: str, runs, steps, layers, **writer_kwargs) -> None:
    """Trains and logs one digits CNN per run with the real writer.

    Args:
        root: the logdir; each run is a subdirectory.
        runs: ``(name, learning_rate, seed)`` per run.
        steps: the logged steps; a short epoch of training precedes each but the first.
        layers: the layers to log.
        **writer_kwargs: passed to ``ChannelExplorerWriter`` (e.g. ``maps_budget_bytes``).
    """
    import torch

    sys.path.insert(0, os.path.join(REPO, "examples"))
    try:
        import digits
    finally:
        sys.path.pop(0)
    from tensorboard_plugin_channelexplorer.writer import ChannelExplorerWriter

    torch.set_num_threads(1)
    x_tr, y_tr, x_te, y_te, _idx_tr, idx_te = digits.load_digits_tensors(seed=0)
    probe_x, probe_y, probe_ids = digits.probe_set(x_te, y_te, idx_te, per_class=6)
    for run, lr, seed in runs:
        model = digits.make_cnn(seed=seed)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        with ChannelExplorerWriter(os.path.join(root, run), **writer_kwargs) as writer:
            for step in steps:
                if step:
                    digits.train_epoch(model, opt, x_tr, y_tr, seed=step)
                model.eval()
                writer.log_layers(
                    model,
                    probe_x,
                    labels=probe_y,
                    step=step,
                    class_names=digits.CLASS_NAMES,
                    sample_ids=probe_ids,
                    layers=layers,
                )
