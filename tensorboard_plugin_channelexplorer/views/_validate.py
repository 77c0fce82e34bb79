"""Input validation and JSON conversion shared by the views.

Every public view function validates its arguments at the top with these
helpers. A bad scalar parameter (``eta``, ``k``, a choice, a seed) raises
`errors.InvalidArgumentError` with ``.parameter`` set to its name, which the
routes serve as HTTP 400; bad arrays (the data, not a parameter) raise a plain
``ValueError``. Both are ``ValueError`` subclasses, as scikit-learn raises.
"""

from __future__ import annotations

import contextlib
import functools
import math
import numbers
import threading

import numpy as np

from tensorboard_plugin_channelexplorer.errors import InvalidArgumentError
from tensorboard_plugin_channelexplorer.native_threads import in_capped_worker

# Re-entrant: views call each other (scatter_view -> embed -> t-SNE).
_THREADS_LOCK = threading.RLock()
# One threadpoolctl controller per scope (see `single_threaded`), built on first use.
_controllers: dict = {}
SCOPES = ("all", "numpy")


def _controller(scope: str):
    controller = _controllers.get(scope)
    if controller is None:
        if scope == "all":
            # The controller only sees libraries loaded when it is created:
            # import scikit-learn's compiled modules (and their OpenMP) first.
            import sklearn.cluster  # noqa: F401
            import sklearn.manifold  # noqa: F401
        from threadpoolctl import ThreadpoolController

        controller = _controllers[scope] = ThreadpoolController()
    return controller


@contextlib.contextmanager
def single_threaded(scope: str = "all"):
    """Runs the block with BLAS/OpenMP limited to one thread.

    The views work on small matrices, where threads gain little; on a busy
    machine spinning BLAS/OpenMP workers cost a lot (measured with the 2
    cores shared: a 200x2048 float32 matrix product 64 ms vs 0.8 ms, t-SNE
    of 200 points 21 s vs 1 s).

    Inside a task of the plugin's compute pool the threads are already
    capped for good (`native_threads.capped_worker`), and the block runs as
    is, concurrently with the other workers. Elsewhere (a view called as a
    library function) the limit is set and restored around the block; since
    it is process-wide, a lock keeps concurrent callers from interleaving the
    save/restore, so such calls run one at a time.

    Args:
        scope: ``"all"`` limits every pool, scikit-learn's OpenMP included
            (imported first, ~0.6 s once per process); ``"numpy"`` limits
            the pools loaded when first used (numpy's BLAS), for pure-numpy
            code such as the k-NN score the writer computes in a training
            process, which should not have to import scikit-learn.
    """
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, got {scope!r}")
    if in_capped_worker():
        yield
        return
    with _THREADS_LOCK:
        with _controller(scope).limit(limits=1):
            yield


def single_threaded_view(func=None, *, scope: str = "all"):
    """Decorator: runs ``func`` inside ``single_threaded(scope)``; ``@single_threaded_view(scope="numpy")`` too."""

    def decorate(f):
        @functools.wraps(f)
        def wrapper(*args, **kwargs):
            with single_threaded(scope):
                return f(*args, **kwargs)

        return wrapper

    return decorate(func) if func is not None else decorate


def check_matrix(X, name: str = "X", min_rows: int = 1, dtype=np.float64) -> np.ndarray:
    """Returns ``X`` as a finite 2-D float array.

    Args:
        X: array-like of shape ``[N, D]``.
        name: parameter name used in error messages.
        min_rows: the smallest accepted ``N``.
        dtype: the dtype of the returned array.

    Raises:
        ValueError: when ``X`` is not 2-D, has too few rows, no columns, or
            holds NaN/inf.
    """
    try:
        arr = np.asarray(X, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be a numeric array, got {type(X).__name__}") from exc
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D [inputs, channels], got shape {arr.shape}")
    if arr.shape[0] < min_rows:
        raise ValueError(f"{name} must have at least {min_rows} row(s) (inputs), got {arr.shape[0]}")
    if arr.shape[1] < 1:
        raise ValueError(f"{name} must have at least 1 column (channel), got {arr.shape[1]}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return arr


def check_labels(labels, n: int, name: str = "labels", n_name: str = "S") -> np.ndarray:
    """Returns ``labels`` as a 1-D int64 array of length ``n`` with values >= 0.

    Raises:
        ValueError: on a length mismatch (naming both counts), non-integer or
            negative class ids.
    """
    arr = np.asarray(labels)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.shape[0] != n:
        raise ValueError(
            f"{name} has {arr.shape[0]} entries but {n_name} has {n} rows (inputs); they must match"
        )
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.issubdtype(arr.dtype, np.number) or not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise ValueError(f"{name} must hold integer class ids, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name} must hold class ids >= 0, got {int(arr.min())}")
    return arr


def check_eta(eta) -> float:
    """Returns ``eta`` as a float in (0, 1]."""
    if isinstance(eta, bool) or not isinstance(eta, numbers.Real):
        raise InvalidArgumentError(f"eta must be a number in (0, 1], got {eta!r}", "eta")
    eta = float(eta)
    if not (0.0 < eta <= 1.0):
        raise InvalidArgumentError(f"eta must be in (0, 1], got {eta:g}", "eta")
    return eta


def check_int(value, name: str, lo: int | None = None, hi: int | None = None) -> int:
    """Returns ``value`` as a python int within ``[lo, hi]`` (bounds optional)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and float(value).is_integer():
            value = int(value)
        else:
            raise InvalidArgumentError(f"{name} must be an integer, got {value!r}", name)
    value = int(value)
    if lo is not None and value < lo:
        raise InvalidArgumentError(f"{name} must be >= {lo}, got {value}", name)
    if hi is not None and value > hi:
        raise InvalidArgumentError(f"{name} must be <= {hi}, got {value}", name)
    return value


def check_k(k, n: int, name: str = "k") -> int | None:
    """Validates a cluster count: None (automatic) or 1 <= k <= n."""
    if k is None:
        return None
    k = check_int(k, name, lo=1)
    if k > n:
        raise InvalidArgumentError(f"{name}={k} exceeds the number of inputs N={n}", name)
    return k


def check_random_state(random_state, name: str = "random_state") -> int:
    """Returns the seed as a non-negative int (numpy/sklearn accept < 2**32)."""
    return check_int(random_state, name, lo=0, hi=2**32 - 1)


def check_choice(value, name: str, choices) -> str:
    """Returns ``value`` if it is one of ``choices``."""
    if value not in choices:
        raise InvalidArgumentError(f"{name} must be one of {', '.join(choices)}, got {value!r}", name)
    return value


def check_fraction(value, name: str) -> float:
    """Returns ``value`` as a float in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidArgumentError(f"{name} must be a number in [0, 1], got {value!r}", name)
    value = float(value)
    if not (0.0 <= value <= 1.0):
        raise InvalidArgumentError(f"{name} must be in [0, 1], got {value:g}", name)
    return value


def decimals_for(arr, sig: int = 7) -> int:
    """Decimals that keep ``sig`` significant digits of the largest magnitude in ``arr``."""
    a = np.asarray(arr, dtype=np.float64)
    finite = a[np.isfinite(a)] if a.size else a
    m = float(np.max(np.abs(finite))) if finite.size else 0.0
    if m == 0.0:
        return sig
    return sig - 1 - int(math.floor(math.log10(m)))


def round_sig(arr, sig: int = 7, decimals: int | None = None) -> np.ndarray:
    """Rounds an array to ``sig`` significant digits relative to its largest magnitude.

    A shared number of decimals keeps the JSON short (floats print with their
    shortest repr) without distorting small values relative to the data range.
    ``decimals`` overrides the computed number of decimals.
    """
    a = np.asarray(arr, dtype=np.float64)
    if a.size == 0:
        return a
    if decimals is None:
        decimals = decimals_for(a, sig)
    if decimals > 290:
        # Values near the float64 underflow limit: 10**decimals would overflow.
        return a
    return np.round(a, decimals)


def floats(arr, sig: int | None = 7, decimals: int | None = None) -> list:
    """Converts an array of floats to nested python lists (NaN/inf become None).

    Values are rounded (``round_sig``) unless ``sig`` and ``decimals`` are None.
    """
    a = np.asarray(arr, dtype=np.float64)
    if sig is not None or decimals is not None:
        a = round_sig(a, sig or 7, decimals)
    if a.size and not np.all(np.isfinite(a)):
        obj = a.astype(object)
        obj[~np.isfinite(a)] = None
        return obj.tolist()
    return a.tolist()


def ints(arr) -> list:
    """Converts an integer array to nested python lists of ints."""
    return np.asarray(arr, dtype=np.int64).tolist()


def group_by_class(labels: np.ndarray):
    """Orders inputs by class, stable within a class.

    Returns:
        ``(order, classes, boundaries)``: ``order`` the input indices grouped by
        ascending class id, ``classes`` the class ids present (ascending) and
        ``boundaries`` the start offset of each class group in ``order``
        followed by ``N`` (so group ``g`` is ``order[boundaries[g]:boundaries[g+1]]``).
    """
    order = np.argsort(labels, kind="stable")
    classes, counts = np.unique(labels, return_counts=True)
    boundaries = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return order, classes, boundaries
