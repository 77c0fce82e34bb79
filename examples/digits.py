"""Shared digits data and a small CNN for the examples, tests and benchmarks.

scikit-learn's ``load_digits``: 1,797 grayscale 8x8 images of the digits 0-9,
bundled with scikit-learn (no download). The CNN reaches ~95% test accuracy
after a few seconds of CPU training.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

CLASS_NAMES = [str(i) for i in range(10)]


def load_digits_tensors(seed: int = 0, test_fraction: float = 0.25):
    """Loads the digits as float tensors with a deterministic stratified split.

    Args:
        seed: Seed of the split.
        test_fraction: Fraction of each class held out for testing.

    Returns:
        ``(x_train, y_train, x_test, y_test, idx_train, idx_test)``: images
        ``float32 [N, 1, 8, 8]`` in ``[0, 1]``, labels ``int64 [N]`` and the
        dataset indices of each split (stable sample ids).
    """
    from sklearn.datasets import load_digits

    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    data = load_digits()
    x = torch.tensor(data.images, dtype=torch.float32).unsqueeze(1) / 16.0
    y = torch.tensor(data.target, dtype=torch.int64)
    rng = np.random.default_rng(seed)
    test_idx = []
    for c in range(10):
        idx = np.flatnonzero(data.target == c)
        rng.shuffle(idx)
        test_idx.extend(idx[: int(round(len(idx) * test_fraction))].tolist())
    test_idx = np.sort(np.array(test_idx))
    train_idx = np.setdiff1d(np.arange(len(y)), test_idx)
    tr, te = torch.from_numpy(train_idx), torch.from_numpy(test_idx)
    return x[tr], y[tr], x[te], y[te], tr, te


class DigitsCNN(nn.Module):
    """Three conv -> BN -> ReLU stages (16/32/64 channels), one max pool, GAP, linear."""

    def __init__(self, n_classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(32)
        self.relu2 = nn.ReLU(inplace=True)
        self.pool = nn.MaxPool2d(2)
        self.conv3 = nn.Conv2d(32, 64, 3, padding=1)
        self.bn3 = nn.BatchNorm2d(64)
        self.relu3 = nn.ReLU(inplace=True)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, n_classes)

    def forward(self, x):
        x = self.relu1(self.bn1(self.conv1(x)))
        x = self.pool(self.relu2(self.bn2(self.conv2(x))))
        x = self.relu3(self.bn3(self.conv3(x)))
        return self.fc(torch.flatten(self.gap(x), 1))


def make_cnn(seed: int = 0, n_classes: int = 10) -> DigitsCNN:
    """Builds the digits CNN with deterministic initial weights."""
    torch.manual_seed(seed)
    return DigitsCNN(n_classes)


def train_epoch(model: nn.Module, opt: torch.optim.Optimizer, x, y, batch_size: int = 64, seed: int | None = None) -> float:
    """Trains one epoch of shuffled mini-batches; returns the mean loss."""
    model.train()
    g = torch.Generator().manual_seed(seed) if seed is not None else None
    perm = torch.randperm(len(x), generator=g)
    total = 0.0
    for i in range(0, len(x), batch_size):
        idx = perm[i : i + batch_size]
        opt.zero_grad()
        loss = F.cross_entropy(model(x[idx]), y[idx])
        loss.backward()
        opt.step()
        total += loss.item() * len(idx)
    return total / len(x)


def accuracy(model: nn.Module, x, y, batch_size: int = 512) -> float:
    """Top-1 accuracy in eval mode (the model's mode is restored)."""
    was = model.training
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            correct += int((model(x[i : i + batch_size]).argmax(1) == y[i : i + batch_size]).sum())
    model.train(was)
    return correct / len(x)


def probe_set(x, y, ids, per_class: int = 20):
    """First ``per_class`` inputs of each class (a fixed probe set, class-sorted)."""
    sel = torch.cat([torch.nonzero(y == c).flatten()[:per_class] for c in range(int(y.max()) + 1)])
    return x[sel], y[sel], ids[sel]
