"""A small ResNet (BasicBlocks with identity and 1x1-conv skip connections) on sklearn digits.

Run::

    python examples/resnet.py --logdir runs/resnet

The 8x8 digits are upsampled to 16x16. The network is a ResNet in plain
torch: a stem conv, three stages of two BasicBlocks (16/32/64 channels; the
first block of stages 2 and 3 halves the resolution and uses a 1x1 conv + BN
on its skip path, every other block an identity skip), global average pooling
and a linear layer. Each epoch logs a fixed probe set (20 test digits per
class) at every conv/BN chain and the blocks' outputs (``layers`` includes
``layer*.*``), plus loss/accuracy scalars in the same run.

The logged graph (tag ``channelexplorer/graph``, read back through
TensorBoard's loader) has one ``Add`` node per block with two in-edges: the
main path (``bn2``) and the skip (the block input, or the ``downsample``
branch). The script checks this and prints how class separability grows with
depth (silhouette of the L2 summaries of each stage's last block).
"""

from __future__ import annotations

import os
import sys

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import add_nodes_with_skip, base_parser, read_back, separability, setup  # noqa: E402
from digits import CLASS_NAMES, load_digits_tensors, probe_set  # noqa: E402

from tensorboard_plugin_channelexplorer import ChannelExplorerWriter  # noqa: E402


class BasicBlock(nn.Module):
    """conv3x3-BN-ReLU-conv3x3-BN, plus the skip (identity or 1x1 conv + BN), then ReLU."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.relu2 = nn.ReLU()
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu2(out + identity)


class SmallResNet(nn.Module):
    """ResNet-style network for 1 x 16 x 16 inputs."""

    def __init__(self, n_classes: int = 10, widths=(16, 32, 64)):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, widths[0], 3, padding=1, bias=False), nn.BatchNorm2d(widths[0]), nn.ReLU())
        stages, c = [], widths[0]
        for i, w in enumerate(widths):
            stride = 1 if i == 0 else 2
            stages.append(nn.Sequential(BasicBlock(c, w, stride), BasicBlock(w, w)))
            c = w
        self.layer1, self.layer2, self.layer3 = stages
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c, n_classes)

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(self.stem(x))))
        return self.fc(torch.flatten(self.pool(x), 1))


def upsample(x: torch.Tensor, side: int = 16) -> torch.Tensor:
    """Bilinear upsampling of the 8x8 digits."""
    return F.interpolate(x, size=(side, side), mode="bilinear", align_corners=False)


def main(argv=None):
    parser = base_parser(__doc__.splitlines()[0], "runs/resnet")
    parser.add_argument("--epochs", type=int, default=None, help="training epochs (default 4, quick 2)")
    args = parser.parse_args(argv)
    setup(args)
    epochs = (2 if args.quick else 4) if args.epochs is None else args.epochs
    if epochs < 1:
        parser.error("--epochs must be >= 1")

    x_train, y_train, x_test, y_test, _, idx_test = load_digits_tensors(seed=args.seed)
    x_train, x_test = upsample(x_train), upsample(x_test)
    batch = 64
    if args.quick:  # a subset, in smaller batches so BatchNorm's running statistics still settle
        x_train, y_train, batch = x_train[:700], y_train[:700], 32
    probe_x, probe_y, probe_ids = probe_set(x_test, y_test, idx_test, per_class=10 if args.quick else 20)
    model = SmallResNet()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    layers = ["stem.0", "layer*.*", "layer*.*.conv*", "layer*.*.downsample.0"]

    with ChannelExplorerWriter(args.logdir) as ce:
        sw = ce.summary_writer
        for epoch in range(epochs):
            model.train()
            perm = torch.randperm(len(x_train))
            total = 0.0
            for i in range(0, len(x_train), batch):
                idx = perm[i:i + batch]
                opt.zero_grad()
                loss = F.cross_entropy(model(x_train[idx]), y_train[idx])
                loss.backward()
                opt.step()
                total += loss.item() * len(idx)
            model.eval()
            with torch.no_grad():
                acc = float((model(x_test).argmax(1) == y_test).float().mean())
            sw.add_scalar("train/loss", total / len(x_train), epoch)
            sw.add_scalar("test/accuracy", acc, epoch)
            ce.log_layers(model, probe_x, labels=probe_y, step=epoch, class_names=CLASS_NAMES,
                          sample_ids=probe_ids, layers=layers, stage="both")
            # Write the step now, so its events precede the next epoch's scalars in
            # the shared event file (TensorBoard's Python loader purges on steps
            # that go backwards within a file).
            ce.flush()
            print(f"epoch {epoch}: loss {total / len(x_train):.3f}  test accuracy {acc:.3f}")

    reader, run = read_back(args.logdir)
    last = reader.steps(run)[-1]
    graph = reader.graph(run, last)
    adds = add_nodes_with_skip(graph)
    print(f"\ngraph (source={graph['source']}): {len(graph['nodes'])} nodes, {len(graph['edges'])} edges, "
          f"{len(adds)} Add nodes with two in-edges:")
    n_skip = 0
    for a in adds:
        main_path = [s for s in a["sources"] if s.endswith(".bn2")]
        skip = [s for s in a["sources"] if not s.endswith(".bn2")]
        kind = "1x1-conv skip" if any(".downsample" in s for s in skip) else "identity skip"
        ok = len(main_path) == 1 and len(skip) == 1
        n_skip += ok
        print(f"  {a['id']:<8} <- main {main_path}  skip {skip}  ({kind})")
    if n_skip != 6:
        raise SystemExit(f"expected 6 Add nodes (one per BasicBlock) with a main and a skip in-edge, found {n_skip}")

    labels = reader.inputs(run, last)["labels"]
    print(f"\nclass separability at step {last} (silhouette of L2 summaries; higher = classes further apart):")
    # A block's output is already after its final ReLU: its only stage is "pre".
    for layer, stage in (("stem.0", "post"), ("layer1.1", "pre"), ("layer2.1", "pre"), ("layer3.1", "pre")):
        S = reader.summary_matrix(run, last, layer, fn="l2", stage=stage)
        print(f"  {layer:<10} C={S.shape[1]:<3} {separability(S, labels):+.3f}")
    print(f"\nwrote {os.path.abspath(args.logdir)}")
    return {"adds": adds}


if __name__ == "__main__":
    main()
