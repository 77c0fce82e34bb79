"""Shared helpers of the architecture examples (imagenet_pretrained, resnet, gan, diffusion_unet, segmentation).

Everything here is plain numpy / torch and bundled data only: photos that ship
with scikit-image and scikit-learn (no download at run time), augmentations
written in torch (torchvision is not used), and a read-back of a finished
logdir through TensorBoard's own Python loader and the plugin's `Reader`, so
every example analyses exactly what TensorBoard will serve.
"""

from __future__ import annotations

import argparse
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

# The examples run as scripts (python examples/X.py) from a source checkout.
_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(_HERE)
for _p in (_HERE, _ROOT):
    if _p not in sys.path:
        sys.path.insert(0, _p)

IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

# Photos bundled with scikit-image (function name) and scikit-learn (file name).
SKIMAGE_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "coins", "camera", "immunohistochemistry",
                  "hubble_deep_field", "moon", "brick", "grass", "gravel", "colorwheel", "clock")
SKLEARN_PHOTOS = ("china", "flower")


def base_parser(description: str, default_logdir: str) -> argparse.ArgumentParser:
    """The options every example shares: ``--logdir``, ``--quick``, ``--seed``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--logdir", default=default_logdir, help=f"run directory (default: {default_logdir})")
    parser.add_argument("--quick", action="store_true", help="smaller data and fewer steps (used by the tests)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default: 2)")
    return parser


def setup(args) -> None:
    """Seeds torch/numpy and limits torch's threads (``--threads``)."""
    if args.threads < 1:
        raise ValueError(f"--threads must be >= 1, got {args.threads}")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)


def load_photo(name: str) -> np.ndarray:
    """One bundled photo as ``uint8 [H, W, 3]`` (grayscale photos are repeated to RGB).

    Args:
        name: a name of `SKIMAGE_PHOTOS` or `SKLEARN_PHOTOS`.

    Raises:
        ValueError: for an unknown name.
    """
    if name in SKLEARN_PHOTOS:
        from sklearn.datasets import load_sample_image

        img = load_sample_image(f"{name}.jpg")
    elif name in SKIMAGE_PHOTOS:
        import skimage.data

        img = getattr(skimage.data, name)()
    else:
        raise ValueError(f"unknown photo {name!r}; expected one of {SKIMAGE_PHOTOS + SKLEARN_PHOTOS}")
    img = np.asarray(img)
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    return np.ascontiguousarray(img[:, :, :3]).astype(np.uint8)


def photo_tensor(name: str) -> torch.Tensor:
    """A bundled photo as ``float32 [3, H, W]`` in ``[0, 1]``."""
    return torch.from_numpy(load_photo(name)).permute(2, 0, 1).float().div_(255.0)


def augment(image: torch.Tensor, n: int, size: int, generator: torch.Generator,
            scale=(0.35, 1.0), jitter: float = 0.25) -> torch.Tensor:
    """Random resized crops, horizontal flips and colour jitter of one image.

    Args:
        image: ``[3, H, W]`` in ``[0, 1]``.
        n: number of augmented copies.
        size: output side (square).
        generator: torch RNG (deterministic results for a seed).
        scale: range of the crop area as a fraction of the image area.
        jitter: maximum relative change of brightness, contrast and saturation.

    Returns:
        ``float32 [n, 3, size, size]`` in ``[0, 1]``.
    """
    if image.ndim != 3 or image.shape[0] != 3:
        raise ValueError(f"image must be [3, H, W], got {tuple(image.shape)}")
    if n < 1 or size < 1:
        raise ValueError(f"n and size must be >= 1, got n={n}, size={size}")
    _, h, w = image.shape
    out = []
    for _ in range(n):
        r = torch.rand(6, generator=generator)
        area = (scale[0] + (scale[1] - scale[0]) * float(r[0])) * h * w
        aspect = math.exp(math.log(3 / 4) + (math.log(4 / 3) - math.log(3 / 4)) * float(r[1]))
        ch = int(min(h, max(8, round(math.sqrt(area / aspect)))))
        cw = int(min(w, max(8, round(math.sqrt(area * aspect)))))
        top = int(float(r[2]) * (h - ch + 1))
        left = int(float(r[3]) * (w - cw + 1))
        crop = image[:, top:top + ch, left:left + cw].unsqueeze(0)
        crop = F.interpolate(crop, size=(size, size), mode="bilinear", align_corners=False, antialias=True)[0]
        if float(r[4]) < 0.5:
            crop = crop.flip(2)
        b, c, s = (1.0 + jitter * (2 * torch.rand(3, generator=generator) - 1)).tolist()
        crop = crop * b
        mean = crop.mean()
        crop = (crop - mean) * c + mean
        gray = crop.mean(0, keepdim=True)
        crop = (crop - gray) * s + gray
        out.append(crop.clamp(0.0, 1.0))
    return torch.stack(out)


def imagenet_normalize(x: torch.Tensor) -> torch.Tensor:
    """``(x - mean) / std`` with the ImageNet channel statistics."""
    return (x - IMAGENET_MEAN) / IMAGENET_STD


def python_provider(logdir: str):
    """A TensorBoard data provider over ``logdir`` (the Python loader, no subprocess).

    Keeps every ChannelExplorer step (``samples_per_plugin=0`` means all).
    """
    from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer

    mux = plugin_event_multiplexer.EventMultiplexer(tensor_size_guidance={"channelexplorer": 0})
    mux.AddRunsFromDirectory(logdir)
    mux.Reload()
    return data_provider.MultiplexerDataProvider(mux, logdir)


def read_back(logdir: str):
    """``(reader, run)``: a `Reader` over the logdir and its single run name ('.' for the logdir itself)."""
    from tensorboard_plugin_channelexplorer.reader import Reader

    reader = Reader(python_provider(logdir))
    runs = reader.runs()
    if not runs:
        raise RuntimeError(f"no ChannelExplorer run found under {logdir}")
    return reader, runs[0]


def separability(X, labels) -> float:
    """Silhouette score of ``X`` ``[N, D]`` under ``labels`` (Euclidean; -1..1, higher = better separated)."""
    from sklearn.metrics import silhouette_score

    labels = np.asarray(labels)
    if np.unique(labels).size < 2:
        return float("nan")
    return float(silhouette_score(np.asarray(X, dtype=np.float64), labels))


def add_nodes_with_skip(graph: dict) -> list[dict]:
    """The ``Add`` nodes of a graph JSON with >= 2 distinct in-edges, each with its sources."""
    ins: dict[str, list[str]] = {}
    for e in graph.get("edges", []):
        ins.setdefault(e["target"], []).append(e["source"])
    out = []
    for node in graph.get("nodes", []):
        if node.get("type") == "Add":
            src = sorted(set(ins.get(node["id"], [])))
            if len(src) >= 2:
                out.append({"id": node["id"], "sources": src})
    return out


def class_matrix_table(cm, names) -> str:
    """A small text table of a class-level matrix."""
    cm = np.asarray(cm, dtype=float)
    width = max(8, max(len(n) for n in names) + 1)
    lines = [" " * width + "".join(f"{n[:width - 1]:>{width}}" for n in names)]
    for name, row in zip(names, cm):
        lines.append(f"{name[:width - 1]:<{width}}" + "".join(f"{v:>{width}.3f}" for v in row))
    return "\n".join(lines)


def hierarchy_lines(tree: dict, names=None, indent: int = 0) -> list[str]:
    """Indented text lines of a confusion hierarchy tree (``views.hierarchy``)."""
    lines = []
    label = tree["name"]
    extra = ""
    if tree.get("outliers"):
        extra = f"  outliers={tree['outliers']}"
    lines.append("  " * indent + f"{label} (n={tree['size']}){extra}")
    for child in tree.get("children", []):
        lines.extend(hierarchy_lines(child, names, indent + 1))
    return lines
