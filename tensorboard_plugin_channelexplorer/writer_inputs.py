"""Normalising what users pass to the writer: steps, batches, labels, sample ids.

Everything here validates at the top and raises a `ValueError` naming the
parameter. Nothing here touches a model or an event file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

__all__ = [
    "IMAGE_KEYS",
    "LABEL_KEYS",
    "LabelResolver",
    "as_step",
    "find_logits",
    "resolve_ids",
    "split_batch",
    "unpack_loader_batch",
]

# Keys of a dict batch, in the order they are looked for (Hugging Face
# datasets use ``pixel_values``/``labels``; torchvision-style dicts
# ``image``/``label``).
IMAGE_KEYS = ("image", "images", "pixel_values", "input")
LABEL_KEYS = ("label", "labels", "target")


def as_step(step) -> int:
    """Validates a step: an int >= 0 (bools rejected)."""
    if isinstance(step, (bool, np.bool_)) or not isinstance(step, (int, np.integer)):
        raise ValueError(f"step must be an int >= 0, got {step!r}")
    if step < 0:
        raise ValueError(f"step must be an int >= 0, got {step}")
    return int(step)


def _to_1d(values, what: str):
    """Tensor / ndarray / sequence -> 1-D numpy array or list (ints or str)."""
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise ValueError(f"{what} must be 1-D, got shape {values.shape}")
        return values
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise ValueError(f"{what} must be a 1-D tensor, array or list, got {type(values).__name__}")
    return list(values)


def _describe(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"tensor of shape {tuple(value.shape)}"
    if isinstance(value, Mapping):
        return f"dict with keys {sorted(map(str, value))}"
    if isinstance(value, (tuple, list)):
        return f"{type(value).__name__} of length {len(value)}"
    return type(value).__name__


def _dict_value(batch: Mapping, keys: tuple[str, ...], what: str, required: bool):
    found = [k for k in keys if k in batch]
    if len(found) > 1:
        raise ValueError(f"batch is ambiguous: it has several {what} keys {found}; keep one or pass images explicitly")
    if not found:
        if required:
            raise ValueError(f"batch dict has no {what} key: expected one of {list(keys)}, got keys {sorted(map(str, batch))}")
        return None
    return batch[found[0]]


def split_batch(batch):
    """Splits a batch into ``(images, labels)``.

    Args:
        batch: A 4-D ``[N, C, H, W]`` tensor; a tuple or list
            ``(images, labels, ...)`` whose first item is the images and the
            second (if any) 1-D labels, further items being ignored; or a
            dict with exactly one images key of `IMAGE_KEYS` and at most one
            labels key of `LABEL_KEYS` (other keys are ignored).

    Returns:
        ``(images, labels or None)``.

    Raises:
        ValueError: For a batch of another type, a sequence whose first item
            is not a 4-D tensor or whose second is not 1-D, or a dict with no
            images key or several keys of one kind.
    """
    if isinstance(batch, torch.Tensor):
        return batch, None
    if isinstance(batch, Mapping):
        return _dict_value(batch, IMAGE_KEYS, "images", required=True), _dict_value(batch, LABEL_KEYS, "labels", False)
    if isinstance(batch, (tuple, list)) and batch:
        images = batch[0]
        if not isinstance(images, torch.Tensor) or images.ndim != 4:
            raise ValueError(
                f"batch is a {type(batch).__name__} whose first item must be the [N, C, H, W] images, "
                f"got {_describe(images)}"
            )
        labels = batch[1] if len(batch) > 1 else None
        if isinstance(labels, (torch.Tensor, np.ndarray)) and labels.ndim != 1:
            raise ValueError(
                f"batch is ambiguous: its second item should be 1-D labels, got {_describe(labels)} "
                "(e.g. segmentation masks); pass the images tensor and labels=... explicitly"
            )
        return images, labels
    raise ValueError(
        "batch must be a [N, C, H, W] tensor, a tuple/list (images, labels, ...) or a dict with "
        f"an images key of {list(IMAGE_KEYS)}; got {_describe(batch)}"
    )


def unpack_loader_batch(batch):
    """A data loader batch ``x``, ``(x, y)`` or ``(x, y, ids)`` -> ``(x, y, ids)``."""
    if isinstance(batch, torch.Tensor):
        return batch, None, None
    if isinstance(batch, (tuple, list)) and 1 <= len(batch) <= 3:
        x = batch[0]
        y = batch[1] if len(batch) > 1 else None
        ids = batch[2] if len(batch) > 2 else None
        return x, y, ids
    raise ValueError(f"batches must be x, (x, y) or (x, y, ids); got {type(batch).__name__} of length {len(batch) if hasattr(batch, '__len__') else '?'}")


def find_logits(output) -> torch.Tensor | None:
    """First 2-D tensor of a model output (tensor, tuple/list, dict)."""
    if isinstance(output, torch.Tensor):
        return output if output.ndim == 2 else None
    items = output.values() if isinstance(output, dict) else output if isinstance(output, (tuple, list)) else ()
    for v in items:
        if isinstance(v, torch.Tensor) and v.ndim == 2:
            return v
    return None


def resolve_ids(sample_ids, n: int):
    """N sample ids (ints or strings) -> int64 or str array; None stays None."""
    if sample_ids is None:
        return None
    values = _to_1d(sample_ids, "sample_ids")
    if len(values) != n:
        raise ValueError(f"sample_ids has {len(values)} entries but images has {n} inputs")
    arr = np.asarray(values)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64)
    if arr.dtype.kind in "US" or arr.dtype == object:
        return np.array([str(v) for v in values], dtype=str)
    raise ValueError(f"sample_ids must be ints or strings, got dtype {arr.dtype}")


def _check_class_names(class_names):
    if class_names is None:
        return None
    if isinstance(class_names, str) or not isinstance(class_names, Sequence) and not isinstance(class_names, np.ndarray):
        raise ValueError(f"class_names must be a list of strings, got {type(class_names).__name__}")
    class_names = [str(c) for c in class_names]
    if len(set(class_names)) != len(class_names):
        raise ValueError("class_names contains duplicates")
    return class_names


class LabelResolver:
    """Maps labels to class ids, remembering class names across calls.

    String labels get ids in order of first appearance over the writer's
    life; the last resolved names are kept as the default of later calls.
    """

    def __init__(self):
        self.string_classes: list[str] = []
        self.class_names: list[str] | None = None

    def resolve(self, labels, n: int, class_names, previous: Sequence[np.ndarray] = ()):
        """Returns ``(int64 ids [n], class names)``.

        Args:
            labels: N class ids or class name strings, or None (all class 0).
            n: The number of inputs.
            class_names: The user's class names, or None.
            previous: Label ids of the earlier calls of the current step
                (the default names must cover them too).

        Raises:
            ValueError: For labels of the wrong length or type, negative ids,
                names missing from ``class_names``, or too few class names.
        """
        class_names = _check_class_names(class_names)
        if labels is None:
            return np.zeros(n, dtype=np.int64), class_names or self.class_names or ["all"]
        values = _to_1d(labels, "labels")
        if len(values) != n:
            raise ValueError(f"labels has {len(values)} entries but images has {n} inputs")
        arr = np.asarray(values) if not isinstance(values, np.ndarray) else values
        if arr.dtype.kind in "US" or (arr.dtype == object and all(isinstance(v, str) for v in values)):
            return self._from_strings([str(v) for v in values], class_names)
        if arr.dtype.kind == "b" or (arr.dtype.kind not in "iu" and not (arr.dtype.kind == "f" and np.all(np.mod(arr, 1) == 0))):
            raise ValueError(f"labels must be integer class ids or strings, got dtype {arr.dtype}")
        ids = arr.astype(np.int64)
        if ids.size and ids.min() < 0:
            raise ValueError(f"labels must be >= 0, got {int(ids.min())}")
        names = class_names or self.class_names
        if names is not None and int(ids.max()) >= len(names):
            if class_names is not None:
                raise ValueError(f"class_names has {len(names)} names but labels go up to {int(ids.max())}")
            names = None  # earlier defaults no longer cover the labels: rebuild them
        if names is None:
            top = max([int(ids.max())] + [int(a.max()) for a in previous if a.size])
            names = [str(i) for i in range(top + 1)]
        return ids, names

    def _from_strings(self, strs: list[str], class_names):
        if class_names is not None:
            index = {c: i for i, c in enumerate(class_names)}
            missing = sorted(set(strs) - set(index))
            if missing:
                raise ValueError(f"labels {missing[:5]} are not in class_names")
            return np.array([index[s] for s in strs], dtype=np.int64), class_names
        for s in strs:
            if s not in self.string_classes:
                self.string_classes.append(s)
        index = {c: i for i, c in enumerate(self.string_classes)}
        return np.array([index[s] for s in strs], dtype=np.int64), list(self.string_classes)
