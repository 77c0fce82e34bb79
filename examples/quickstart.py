"""Quickstart: train a small CNN on sklearn digits and log ChannelExplorer data.

Run::

    python examples/quickstart.py                 # writes runs/quickstart
    python examples/quickstart.py --serve         # then starts TensorBoard

Every epoch logs the channel summaries of a fixed probe set (20 test inputs
per class, sample ids = dataset indices, so inputs can be followed across
epochs) plus loss/accuracy scalars through the same SummaryWriter.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from digits import CLASS_NAMES, accuracy, load_digits_tensors, make_cnn, probe_set, train_epoch  # noqa: E402

from tensorboard_plugin_channelexplorer import ChannelExplorerWriter  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logdir", default="runs/quickstart", help="run directory (default: runs/quickstart)")
    parser.add_argument("--epochs", type=int, default=5, help="training epochs (default: 5)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--stage", choices=("pre", "post", "both"), default="pre",
                        help="summarize before and/or after the nonlinearity")
    parser.add_argument("--serve", action="store_true", help="exec tensorboard on the logdir when done")
    parser.add_argument("--port", type=int, default=6006)
    args = parser.parse_args(argv)
    if args.epochs < 1:
        parser.error("--epochs must be >= 1")

    x_train, y_train, x_test, y_test, _, idx_test = load_digits_tensors(seed=args.seed)
    probe_x, probe_y, probe_ids = probe_set(x_test, y_test, idx_test, per_class=20)
    model = make_cnn(seed=args.seed)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)

    with ChannelExplorerWriter(args.logdir) as ce_writer:
        sw = ce_writer.summary_writer
        for epoch in range(args.epochs):
            loss = train_epoch(model, opt, x_train, y_train, seed=args.seed + epoch)
            acc = accuracy(model, x_test, y_test)
            sw.add_scalar("train/loss", loss, epoch)
            sw.add_scalar("test/accuracy", acc, epoch)
            ce_writer.log_layers(
                model, probe_x, labels=probe_y, step=epoch, class_names=CLASS_NAMES,
                sample_ids=probe_ids, stage=args.stage,
            )  # fmt: skip
            print(f"epoch {epoch}: loss {loss:.3f}  test accuracy {acc:.3f}")
    logdir = os.path.abspath(args.logdir)
    parent = os.path.dirname(logdir)
    print(f"wrote {logdir}")
    cmd = ["tensorboard", "--logdir", parent, "--host", "127.0.0.1", "--port", str(args.port),
           "--samples_per_plugin", "channelexplorer=0"]  # fmt: skip
    print("view it with:\n  " + " ".join(cmd))
    if args.serve:
        exe = shutil.which("tensorboard")
        if exe is None:
            sys.exit("tensorboard is not on PATH")
        os.execv(exe, cmd)


if __name__ == "__main__":
    main()
