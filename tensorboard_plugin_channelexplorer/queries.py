"""Typed query objects: the parameters of each route, parsed from the query string.

A route does ``SomeQuery.parse(request.args)`` and hands the result to its
handler. Parsing checks everything the query string alone can tell (types,
ranges, choices) and raises `errors.InvalidArgumentError` naming the
parameter; what needs the data (an unknown run, ``k`` larger than ``N``) is
checked by the reader and the handlers. Nothing here reads data, so this
module imports only numpy-free pieces of the package.

The ``param_*`` helpers are public so that a new query can reuse them; the
``MAX_*`` limits and the choice tuples are documented in ``http_api.md``.
"""

from __future__ import annotations

import dataclasses
import math

from tensorboard_plugin_channelexplorer import metadata
from tensorboard_plugin_channelexplorer.errors import InvalidArgumentError

SCATTER_METHODS = ("pca", "mds", "tsne", "umap")
HEATMAP_ORDERS = ("pairwise", "variance", "filter_norm", "taylor", "cluster")
TRAJECTORY_ALIGNS = ("procrustes", "none")
# Frames one /trajectory request embeds at most (t-SNE costs ~1 s per frame of 200 inputs).
MAX_TRAJECTORY_STEPS = 50
# Runs one /timeline request compares at most.
MAX_TIMELINE_RUNS = 32
# Most inputs N of an N x N Jaccard computation. Past it /jaccard and
# /hierarchy work on a seeded class-stratified sample of this many inputs
# (and so does /diff, of the matched inputs; all say so in `sampled`):
# 4096^2 cells are ~100 MB of JSON as decimals already.
MAX_MATRIX_INPUTS = 4096
# Most inputs of a step /suspects scores. Every input gets an exact score (no
# sample: a suspect must not be missed for being left out); its k-NN search
# grows as N^2 C: 6.8 s per layer at 16,384 inputs of 512 channels on one core.
MAX_SUSPECT_INPUTS = 16384
# Most inputs of a step /jaccard, /hierarchy, /dataset and /diff accept at all (they
# sample past MAX_MATRIX_INPUTS; /dataset keeps its clustering of every
# input, the part that grows with N). Measured with
# `benchmarks/bench_views.py --matrix`; past it a request answers 400.
MAX_SAMPLED_INPUTS = 65536
# Most inputs N one /scatter embeds with t-SNE, UMAP or MDS, and one
# /trajectory frame (the clustering runs for all of them). Past it a request
# answers 400; log fewer probe inputs. t-SNE (openTSNE, FFT) of 16,384 inputs
# takes seconds on one core, and runs on one worker of the compute pool.
MAX_EMBED_INPUTS = 16384
# Most inputs N one /scatter?method=pca lays out (PCA and the clustering on 50
# components grow linearly in N; TensorBoard's Projector offers PCA to 50k).
MAX_PCA_INPUTS = 65536
# Most inputs x frames one /trajectory embeds (e.g. 50 frames of 1,310 inputs,
# or 4 frames of 16,384).
MAX_TRAJECTORY_POINTS = 65536
# Largest random seed numpy and scikit-learn accept.
MAX_SEED = 2**32 - 1

_MISSING = object()


def check_sampled_inputs(n: int, parameter: str = "run") -> None:
    """Raises InvalidArgumentError (400) when a sampling similarity view gets more than `MAX_SAMPLED_INPUTS` inputs."""
    if n > MAX_SAMPLED_INPUTS:
        raise InvalidArgumentError(
            f"this step has N={n} inputs; the similarity views sample at most N <= {MAX_SAMPLED_INPUTS} "
            "(log fewer probe inputs)", parameter)


def check_suspect_inputs(n: int, parameter: str = "run") -> None:
    """Raises InvalidArgumentError (400) when `/suspects` would score more than `MAX_SUSPECT_INPUTS` inputs."""
    if n > MAX_SUSPECT_INPUTS:
        raise InvalidArgumentError(
            f"this step has N={n} inputs; suspect labels are scored for N <= {MAX_SUSPECT_INPUTS} "
            "(log fewer probe inputs)", parameter)


def check_embed_inputs(n: int, frames: int = 1, method: str | None = None) -> None:
    """Raises InvalidArgumentError (400) past the input cap of `method`, or `MAX_TRAJECTORY_POINTS` in all frames.

    The cap is `MAX_PCA_INPUTS` for a one-frame PCA, else `MAX_EMBED_INPUTS`.
    """
    cap = MAX_PCA_INPUTS if method == "pca" and frames == 1 else MAX_EMBED_INPUTS
    if n > cap:
        name = f"method {method!r} is" if method else "embeddings are"
        raise InvalidArgumentError(
            f"this step has N={n} inputs; {name} limited to N <= {cap} "
            f"(PCA to {MAX_PCA_INPUTS}; log fewer probe inputs)", "run")
    if n * frames > MAX_TRAJECTORY_POINTS:
        raise InvalidArgumentError(
            f"{frames} steps of N={n} inputs make {n * frames} points; a trajectory embeds at most "
            f"{MAX_TRAJECTORY_POINTS} (ask for fewer steps)", "steps")


def check_k(k: int | None, n: int) -> None:
    """Raises InvalidArgumentError when a cluster count `k` exceeds the `n` inputs."""
    if k is not None and k > n:
        raise InvalidArgumentError(f"parameter 'k'={k} exceeds the number of inputs N={n}", "k")


# ---------------------------------------------------------------- primitives
def _raw(args, name, default=_MISSING):
    value = args.get(name)
    if value is None or value == "":
        if default is _MISSING:
            raise InvalidArgumentError(f"parameter {name!r} is required", name)
        return default
    return value


def param_str(args, name, default=_MISSING):
    """A string parameter; required unless `default` is given."""
    return _raw(args, name, default)


def param_int(args, name, default=_MISSING, lo=None, hi=None):
    """An integer parameter within [lo, hi] (None means unbounded)."""
    value = _raw(args, name, default)
    if value is None or isinstance(value, int):
        parsed = value
    else:
        try:
            parsed = int(str(value).strip())
        except ValueError:
            raise InvalidArgumentError(f"parameter {name!r} must be an integer, got {value!r}", name) from None
    if parsed is not None:
        if lo is not None and parsed < lo:
            raise InvalidArgumentError(f"parameter {name!r} must be >= {lo}, got {parsed}", name)
        if hi is not None and parsed > hi:
            raise InvalidArgumentError(f"parameter {name!r} must be <= {hi}, got {parsed}", name)
    return parsed


def param_float(args, name, default=_MISSING):
    """A finite float parameter."""
    value = _raw(args, name, default)
    try:
        parsed = float(value)
    except (TypeError, ValueError):
        raise InvalidArgumentError(f"parameter {name!r} must be a number, got {value!r}", name) from None
    if not math.isfinite(parsed):
        raise InvalidArgumentError(f"parameter {name!r} must be finite, got {value!r}", name)
    return parsed


def param_eta(args, default=0.2):
    """The Jaccard threshold ``eta`` in (0, 1]."""
    eta = param_float(args, "eta", default)
    if not 0.0 < eta <= 1.0:
        raise InvalidArgumentError(f"parameter 'eta' must be in (0, 1], got {eta:g}", "eta")
    return eta


def param_bool(args, name, default=False):
    """A boolean parameter: 1/0, true/false, yes/no."""
    value = _raw(args, name, None)
    if value is None:
        return default
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise InvalidArgumentError(f"parameter {name!r} must be 0 or 1, got {value!r}", name)


def param_choice(args, name, choices, default=_MISSING):
    """A parameter that must be one of `choices`."""
    value = _raw(args, name, default)
    if value not in choices:
        raise InvalidArgumentError(f"unknown {name} {value!r}; expected one of {list(choices)}", name)
    return value


def param_seed(args):
    """The random seed ``seed`` in [0, 2**32 - 1], default 0."""
    return param_int(args, "seed", 0, lo=0, hi=MAX_SEED)


def param_fn(args, default):
    """The summary function ``fn``, one of `metadata.SUMMARY_FUNCTIONS`."""
    return param_choice(args, "fn", metadata.SUMMARY_FUNCTIONS, default)


def param_stage(args):
    """The stage ``stage``, one of `metadata.STAGES`, default ``pre``."""
    return param_choice(args, "stage", metadata.STAGES, "pre")


def query_fields(query) -> dict:
    """The fields of a query dataclass (shallow, unlike `dataclasses.asdict`)."""
    return {f.name: getattr(query, f.name) for f in dataclasses.fields(query)}


# -------------------------------------------------------------------- queries
@dataclasses.dataclass(frozen=True)
class StepQuery:
    """``run`` and ``step`` (None: the latest step)."""

    run: str
    step: int | None

    @classmethod
    def parse(cls, args) -> "StepQuery":
        return cls(run=param_str(args, "run"), step=param_int(args, "step", None))


@dataclasses.dataclass(frozen=True)
class LayerQuery(StepQuery):
    """A step, plus ``layer``, ``fn`` and ``stage``: one summary matrix."""

    layer: str
    fn: str
    stage: str

    @classmethod
    def parse(cls, args, fn_default: str = "otsu") -> "LayerQuery":
        """Parses the parameters; `fn_default` is the route's default summary function."""
        base = StepQuery.parse(args)
        return LayerQuery(**query_fields(base), layer=param_str(args, "layer"), fn=param_fn(args, fn_default),
                          stage=param_stage(args))


@dataclasses.dataclass(frozen=True)
class ThumbnailQuery(StepQuery):
    """``/thumbnail``: a step and the input ``index``."""

    index: int

    @classmethod
    def parse(cls, args) -> "ThumbnailQuery":
        return cls(**query_fields(StepQuery.parse(args)), index=param_int(args, "index"))


@dataclasses.dataclass(frozen=True)
class ScatterQuery(LayerQuery):
    """``/scatter``: embedding ``method``, ``seed`` and the cluster count ``k`` (None: automatic)."""

    method: str = "tsne"
    seed: int = 0
    k: int | None = None

    @classmethod
    def parse(cls, args) -> "ScatterQuery":
        base = LayerQuery.parse(args, fn_default="l2")
        return cls(**query_fields(base), method=param_choice(args, "method", SCATTER_METHODS, "tsne"),
                   seed=param_seed(args), k=param_int(args, "k", None, lo=1))


@dataclasses.dataclass(frozen=True)
class JaccardQuery(LayerQuery):
    """``/jaccard``: ``eta``, ``normalize``, the ``seed`` of the sample past `MAX_MATRIX_INPUTS`, ``matrix``."""

    eta: float = 0.2
    normalize: bool = False
    seed: int = 0
    matrix: str = "values"

    @classmethod
    def parse(cls, args) -> "JaccardQuery":
        base = LayerQuery.parse(args)
        return cls(**query_fields(base), eta=param_eta(args), normalize=param_bool(args, "normalize", False),
                   seed=param_seed(args), matrix=param_choice(args, "matrix", ("values", "counts"), "values"))


@dataclasses.dataclass(frozen=True)
class JaccardCellQuery(LayerQuery):
    """``/jaccard_cell``: ``eta`` and the two inputs ``i``, ``j`` (checked against N by the handler)."""

    eta: float = 0.2
    i: int = 0
    j: int = 0

    @classmethod
    def parse(cls, args) -> "JaccardCellQuery":
        base = LayerQuery.parse(args)
        return cls(**query_fields(base), eta=param_eta(args), i=param_int(args, "i", lo=0), j=param_int(args, "j", lo=0))


@dataclasses.dataclass(frozen=True)
class HierarchyQuery(LayerQuery):
    """``/hierarchy``: ``eta`` and ``seed`` (of the subclusters, and of the sample past `MAX_MATRIX_INPUTS`)."""

    eta: float = 0.2
    seed: int = 0

    @classmethod
    def parse(cls, args) -> "HierarchyQuery":
        base = LayerQuery.parse(args)
        return cls(**query_fields(base), eta=param_eta(args), seed=param_seed(args))


@dataclasses.dataclass(frozen=True)
class HeatmapQuery(LayerQuery):
    """``/heatmap``: channel ``order`` and the input window ``offset``, ``limit``."""

    order: str = "pairwise"
    offset: int = 0
    limit: int = 256

    @classmethod
    def parse(cls, args) -> "HeatmapQuery":
        base = LayerQuery.parse(args)
        return cls(**query_fields(base), order=param_choice(args, "order", HEATMAP_ORDERS, "pairwise"),
                   offset=param_int(args, "offset", 0, lo=0), limit=param_int(args, "limit", 256, lo=1, hi=4096))


@dataclasses.dataclass(frozen=True)
class OverlayQuery(StepQuery):
    """``/overlay``: ``layer``, input ``index``, ``channel`` and the blend ``alpha`` in [0, 1]."""

    layer: str
    index: int
    channel: int
    alpha: float

    @classmethod
    def parse(cls, args) -> "OverlayQuery":
        base = StepQuery.parse(args)
        layer = param_str(args, "layer")
        index = param_int(args, "index")
        channel = param_int(args, "channel")
        alpha = param_float(args, "alpha", 0.6)
        if not 0.0 <= alpha <= 1.0:
            raise InvalidArgumentError(f"parameter 'alpha' must be in [0, 1], got {alpha:g}", "alpha")
        return cls(**query_fields(base), layer=layer, index=index, channel=channel, alpha=alpha)


@dataclasses.dataclass(frozen=True)
class DatasetQuery(StepQuery):
    """``/dataset``: ``fn``, ``stage``, the ``reference`` class, ``seed``, ``eta`` and ``k``."""

    fn: str
    stage: str
    reference: int
    seed: int
    eta: float
    k: int | None

    @classmethod
    def parse(cls, args) -> "DatasetQuery":
        base = StepQuery.parse(args)
        return cls(**query_fields(base), fn=param_fn(args, "otsu"), stage=param_stage(args),
                   reference=param_int(args, "reference", 0, lo=0), seed=param_seed(args), eta=param_eta(args),
                   k=param_int(args, "k", None, lo=1))


@dataclasses.dataclass(frozen=True)
class TimelineQuery:
    """``/timeline``: one or more ``run`` (repeated, deduplicated), ``fn`` and ``stage``."""

    runs: tuple
    fn: str
    stage: str

    @classmethod
    def parse(cls, args) -> "TimelineQuery":
        runs = [r for r in args.getlist("run") if r]
        if not runs:
            raise InvalidArgumentError("parameter 'run' is required (repeat it to compare runs)", "run")
        runs = list(dict.fromkeys(runs))
        if len(runs) > MAX_TIMELINE_RUNS:
            raise InvalidArgumentError(f"at most {MAX_TIMELINE_RUNS} runs per request, got {len(runs)}", "run")
        return cls(runs=tuple(runs), fn=param_fn(args, "l2"), stage=param_stage(args))


@dataclasses.dataclass(frozen=True)
class TrajectoryQuery:
    """``/trajectory``: a run's layer at several ``steps`` (None: all, thinned), embedded and aligned."""

    run: str
    layer: str
    fn: str
    stage: str
    method: str
    align: str
    seed: int
    steps: tuple | None

    @classmethod
    def parse(cls, args) -> "TrajectoryQuery":
        return cls(run=param_str(args, "run"), layer=param_str(args, "layer"), fn=param_fn(args, "l2"),
                   stage=param_stage(args), method=param_choice(args, "method", SCATTER_METHODS, "pca"),
                   align=param_choice(args, "align", TRAJECTORY_ALIGNS, "procrustes"), seed=param_seed(args),
                   steps=_parse_steps(param_str(args, "steps", None)))


def _parse_steps(text: str | None) -> tuple | None:
    """Comma-separated step numbers, deduplicated in order; None when absent."""
    if text is None:
        return None
    steps = []
    for part in str(text).split(","):
        try:
            step = int(part.strip())
        except ValueError:
            raise InvalidArgumentError(
                f"parameter 'steps' must be comma-separated integers, got {text!r}", "steps") from None
        if step not in steps:
            steps.append(step)
    if len(steps) > MAX_TRAJECTORY_STEPS:
        raise InvalidArgumentError(
            f"parameter 'steps' names {len(steps)} steps; at most {MAX_TRAJECTORY_STEPS}", "steps")
    return tuple(steps)


@dataclasses.dataclass(frozen=True)
class DiffQuery:
    """``/diff``: a layer at (``run``, ``step``) against (``run_b``, ``step_b``).

    ``step`` None means the run's first step, ``run_b`` None the same run and
    ``step_b`` None the latest step of ``run_b``. ``seed`` picks the sample
    of matched inputs past `MAX_MATRIX_INPUTS`.
    """

    run: str
    step: int | None
    layer: str
    run_b: str
    step_b: int | None
    fn: str
    stage: str
    eta: float
    order: str
    seed: int = 0

    @classmethod
    def parse(cls, args) -> "DiffQuery":
        run = param_str(args, "run")
        return cls(run=run, step=param_int(args, "step", None), layer=param_str(args, "layer"),
                   run_b=param_str(args, "run_b", run), step_b=param_int(args, "step_b", None),
                   fn=param_fn(args, "otsu"), stage=param_stage(args), eta=param_eta(args),
                   order=param_choice(args, "order", HEATMAP_ORDERS, "pairwise"), seed=param_seed(args))
