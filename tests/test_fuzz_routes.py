"""Hypothesis fuzzing of every HTTP route of the plugin.

Every route of ``ChannelExplorerPlugin.get_plugin_apps()`` (new routes
included, as soon as they are registered) gets generated requests whose
documented parameters (parsed from ``http_api.md``; a generic set for routes
not documented yet) take valid, random and malformed values: unknown runs and
layers, negative / huge / non-numeric steps and indices, ``eta`` outside
(0, 1], NaN and infinity strings, empty strings, unicode, repeated parameters,
``k`` > N, huge limits, unknown parameter names, raw invalid percent-encoding.

Each response must be: never 5xx; a 4xx carries JSON with a non-empty
``"error"`` message; a 200 is valid JSON or a PNG (or a file under
``static/`` for the static routes). The logdir is small and real: written by
`ChannelExplorerWriter` on the tiny digits CNN.

Total requests: >= 10,000 (printed at the end; ``pytest -s`` shows it).
Set ``CE_FUZZ_SCALE`` (a float, default 1) to scale every budget, and
``CE_FUZZ_RANDOM=1`` to draw new examples instead of the derandomized set.
"""

from __future__ import annotations

import json
import os
import re
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from helpers import PREFIX, make_client
from tensorboard.plugins import base_plugin

import logdir_fixtures as fx
from tensorboard_plugin_channelexplorer import metadata
from tensorboard_plugin_channelexplorer import plugin as plugin_mod
from tensorboard_plugin_channelexplorer import queries, static_files
from tensorboard_plugin_channelexplorer.plugin import ChannelExplorerPlugin

API_DOC = os.path.join(os.path.dirname(plugin_mod.__file__), "http_api.md")
SCALE = float(os.environ.get("CE_FUZZ_SCALE", "1"))
MIN_TOTAL_REQUESTS = 10_000

# Requests per route. Cheap routes get more; the views that compute
# (scatter, hierarchy, dataset) fewer, and scatter draws its method mostly
# from invalid values (t-SNE and UMAP are exercised by few valid requests).
BUDGET = {
    "/runs": 200,
    "/layers": 1000,
    "/graph": 900,
    "/inputs": 900,
    "/summaries": 1200,
    "/thumbnail": 1000,
    "/jaccard": 800,
    "/jaccard_cell": 1000,
    "/heatmap": 900,
    "/overlay": 900,
    "/scatter": 500,
    "/hierarchy": 350,
    "/dataset": 350,
    "/index.js": 100,
    "/static/*": 600,
}
DEFAULT_BUDGET = 400  # routes added later (e.g. /timeline, /trajectory, /diff)

# Parameters tried on routes that http_api.md does not document (yet).
GENERIC_PARAMS = ("run", "step", "layer", "fn", "stage", "eta", "k", "seed", "index", "channel", "limit",
                  "offset", "run_a", "run_b", "step_a", "step_b", "layer_a", "layer_b", "steps", "inputs",
                  "sample_id", "method", "order", "reference")

_counts: dict[str, int] = {}
_status: dict[int, int] = {}


def documented_params() -> dict[str, list[str]]:
    """route -> query parameter names, from the ``### `GET /route?a=&b=` `` headings of http_api.md."""
    with open(API_DOC, encoding="utf-8") as f:
        text = f.read()
    out = {}
    for route, query in re.findall(r"^###\s+`GET\s+(/[\w/.*-]+)(?:\?([^`]*))?`", text, flags=re.M):
        names = [part.split("=", 1)[0] for part in (query or "").split("&") if part]
        out[route] = names
    return out


def _routes() -> list[str]:
    ctx = base_plugin.TBContext(data_provider=None, sampling_hints={})
    return sorted(ChannelExplorerPlugin(ctx).get_plugin_apps())


ROUTES = _routes()
DOCS = documented_params()

# ----------------------------------------------------------------- strategies
_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)
_nasty = st.sampled_from([
    "", " ", "nan", "NaN", "inf", "-inf", "Infinity", "1e309", "-0", "0x10", "1_000", "1.5", "-1", "-999999",
    "9" * 40, "2147483648", "4294967296", "18446744073709551616", "null", "None", "true", "[]", "{}",
    "%00", "\x00", "../../etc/passwd", "/etc/passwd", "..\\..\\win.ini", "<script>alert(1)</script>",
    "\u202e", "\ufeff1", "\u0661", "\u00b2", "𝟙", "é", "日本", "a" * 300,
])
_small_int = st.integers(min_value=-5, max_value=60)
_big_int = st.integers(min_value=-(2**70), max_value=2**70)


def _int_str(lo_hi=None):
    parts = [_small_int.map(str), _big_int.map(str), _nasty,
             st.floats(allow_nan=True, allow_infinity=True).map(repr)]
    if lo_hi is not None:
        parts.insert(0, st.integers(*lo_hi).map(str))
    return st.one_of(*parts)


def _float_str():
    return st.one_of(
        st.floats(min_value=0.0, max_value=1.0).map(repr),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.sampled_from(["0", "1", "0.2", "1.0000001", "-0.0", "1e-320", "5e-324", ".5", "2"]),
        _nasty,
    )


def _choice(valid, invalid_weight=1):
    return st.one_of(st.sampled_from(list(valid)), *([st.one_of(_nasty, _text)] * invalid_weight))


class World:
    """What exists in the fuzzed logdir (runs, steps, layers, N, C)."""

    def __init__(self, runs: dict):
        self.runs = runs  # run -> {"steps": [...], "layers": {name: channels}, "n": N}

    def valid(self, name: str) -> st.SearchStrategy:
        """Values that exist in the logdir (a run's own steps/layers are not matched: mismatches give 400s)."""
        runs = sorted(self.runs)
        main = self.runs["torch"]
        table = {
            "run": st.sampled_from(runs + ["torch"] * 6),
            "step": st.sampled_from([str(s) for s in main["steps"]]),
            "layer": st.sampled_from(sorted(main["layers"])),
            "fn": st.sampled_from(metadata.SUMMARY_FUNCTIONS),
            "stage": st.just("pre"),
            "method": st.sampled_from(["pca", "pca", "mds"]),
            "order": st.sampled_from(queries.HEATMAP_ORDERS),
            "eta": st.sampled_from(["0.05", "0.2", "0.5", "1"]),
            "alpha": st.sampled_from(["0", "0.6", "1"]),
            "normalize": st.sampled_from(["0", "1"]),
            "matrix": st.sampled_from(["values", "counts"]),
            "i": st.integers(0, main["n"] - 1).map(str),
            "j": st.integers(0, main["n"] - 1).map(str),
            "index": st.integers(0, main["n"] - 1).map(str),
            "channel": st.integers(0, min(main["layers"].values()) - 1).map(str),
            "k": st.sampled_from(["", "1", "2", "3", str(main["n"])]),
            "seed": st.sampled_from(["0", "1", "7"]),
            "offset": st.sampled_from(["0", "1", "5", "1000"]),
            "limit": st.sampled_from(["1", "3", "256", "4096"]),
            "reference": st.sampled_from(["0", "1", "9"]),
        }
        table["random_state"] = table["seed"]
        for a in ("_a", "_b"):
            for base in ("run", "step", "layer"):
                table[base + a] = table[base]
        return table.get(name, self.value(name, ""))

    def value(self, name: str, route: str) -> st.SearchStrategy:
        runs = list(self.runs)
        steps = sorted({s for r in self.runs.values() for s in r["steps"]})
        layers = sorted({lay for r in self.runs.values() for lay in r["layers"]})
        n = max(r["n"] for r in self.runs.values())
        c = max(ch for r in self.runs.values() for ch in r["layers"].values())
        if name in ("run", "run_a", "run_b"):
            return st.one_of(st.sampled_from(runs), st.sampled_from(runs), _nasty, _text,
                             st.sampled_from(["nope", "TORCH", runs[0] + "/", "/" + runs[0], runs[0] + "\x00"]))
        if name in ("step", "step_a", "step_b"):
            return st.one_of(st.sampled_from([str(s) for s in steps]), _int_str((-3, 5)))
        if name in ("layer", "layer_a", "layer_b"):
            return st.one_of(st.sampled_from(layers), st.sampled_from(layers), _nasty, _text,
                             st.sampled_from([layers[0] + " ", layers[0].upper(), "input", "*", "features.*"]))
        if name == "fn":
            return _choice(metadata.SUMMARY_FUNCTIONS)
        if name == "stage":
            return _choice(metadata.STAGES)
        if name == "method":
            # Mostly invalid; pca/mds are cheap; t-SNE rare; UMAP (JIT ~10 s per process) only invalid cases.
            return st.one_of(_nasty, _text, st.sampled_from(["PCA", "umap ", "lda", "tsne\x00"]),
                             st.sampled_from(["pca", "mds"]),
                             st.sampled_from(["pca"] * 24 + ["tsne"]))
        if name == "order":
            return _choice(queries.HEATMAP_ORDERS)
        if name in ("eta",):
            return _float_str()
        if name == "alpha":
            return _float_str()
        if name in ("normalize",):
            return st.one_of(st.sampled_from(["0", "1", "true", "false", "yes", "no", "on", "off", "2", "maybe"]),
                             _nasty)
        if name == "matrix":
            return st.one_of(st.sampled_from(["values", "counts", "COUNTS", "csv"]), _nasty)
        if name in ("i", "j", "index", "sample_id"):
            return _int_str((-2, n + 2))
        if name == "channel":
            return _int_str((-2, c + 2))
        if name == "k":
            return st.one_of(st.just(""), _int_str((-1, n + 3)))
        if name in ("seed", "random_state"):
            return st.one_of(st.sampled_from(["0", "1"]), _int_str((0, 3)),
                             st.sampled_from([str(2**32 - 1), str(2**32), "-1"]))
        if name == "offset":
            return st.one_of(_int_str((0, c + 5)), st.just(str(10**12)))
        if name == "limit":
            return st.one_of(_int_str((0, c + 5)), st.sampled_from(["4096", "4097", str(10**9), "1"]))
        if name == "reference":
            return _int_str((-1, 12))
        if name in ("steps", "inputs"):
            return st.one_of(st.lists(st.sampled_from([str(s) for s in steps] + ["x", "-1"]), max_size=4).map(",".join),
                             _nasty)
        return st.one_of(_nasty, _text, _int_str())


def query_strategy(world: World, route: str) -> st.SearchStrategy:
    """Strategy of raw query strings for `route`."""
    names = DOCS.get(route)
    if names is None:
        names = list(GENERIC_PARAMS)
    pair = lambda name: st.tuples(st.just(name), world.value(name, route))  # noqa: E731
    if not names:
        params = st.just([])
    else:
        params = st.lists(st.one_of(*[pair(n) for n in names]), max_size=len(names) + 3)
        # Mostly: every documented parameter once, plus a few extras / repeats.
        full = st.tuples(*[st.one_of(pair(n), st.just(None)) for n in names]).map(lambda t: [p for p in t if p])
        # Mostly valid: each parameter valid (or absent) with high probability, so the
        # computing paths run with odd-but-valid combinations too.
        valid_pair = lambda name: st.tuples(st.just(name), world.valid(name))  # noqa: E731
        mostly = st.tuples(*[st.one_of(*[valid_pair(n)] * 6, pair(n), st.just(None))
                             for n in names]).map(lambda t: [p for p in t if p])
        params = st.one_of(full, full, mostly, mostly, mostly, params)
    extra = st.lists(st.tuples(st.one_of(_text, st.sampled_from(["run", "step", "layer", "callback", "__proto__"])),
                               st.one_of(_nasty, _text)), max_size=2)
    raw_tail = st.sampled_from(["", "", "", "", "&", "&&=&", "&step=%ff%fe", "&run=%", "&layer=%zz", "&=x",
                                "&run", "&step=1&step=x", "#frag", "&eta=%4e%61%4e"])

    def build(p, e, tail):
        return urllib.parse.urlencode(p + e) + tail

    return st.builds(build, params, extra, raw_tail)


def static_path_strategy() -> st.SearchStrategy:
    return st.one_of(
        st.sampled_from([
            "index.js", "../plugin.py", "..%2fplugin.py", "%2e%2e/%2e%2e/setup.py", "%2e%2e%2fplugin.py",
            "..\\plugin.py", "..%5cplugin.py", "/etc/passwd", "%2fetc%2fpasswd", "//etc/passwd", "./index.js",
            "static/../../plugin.py", "index.js%00.png", "%c0%ae%c0%ae/plugin.py", "....//plugin.py", "",
            "C:\\Windows\\win.ini", "file:///etc/passwd", "~/.bashrc", "index.js/", "nope.js",
        ]),
        st.lists(st.sampled_from(["..", ".", "%2e%2e", "index.js", "a", "%2f", "\\", "", "etc", "passwd"]),
                 max_size=6).map("/".join),
        _text.map(lambda t: urllib.parse.quote(t, safe="/")),
    )


# ------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def fuzz_env(tmp_path_factory):
    """A werkzeug client over a small logdir written by ChannelExplorerWriter, and its `World`."""
    if not fx.writer_available():
        pytest.skip("writer.py is not available")
    import warnings

    from conftest import python_provider

    from tensorboard_plugin_channelexplorer.writer import ChannelExplorerWriter

    root = str(tmp_path_factory.mktemp("fuzz_logdir"))
    fx.write_torch_run(root, "torch", steps=(0, 1), n_inputs=16)
    model = fx.tiny_cnn(1)
    x, y = fx.digits_batch(12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with ChannelExplorerWriter(os.path.join(root, "both")) as w:
            w.log_layers(model, x, y, step=3, stage="both", class_names=[str(i) for i in range(10)])
    fx.write_synthetic_run(root, "synthetic", steps=(0,), n_inputs=10)
    _, _, client = make_client(python_provider(root))
    runs = {}
    for run in json.loads(client.get(PREFIX + "/runs").get_data())["runs"]:
        man = json.loads(client.get(PREFIX + "/layers?run=" + urllib.parse.quote(run["run"])).get_data())
        runs[run["run"]] = {"steps": run["steps"], "n": man["n_inputs"], "classes": len(man["class_names"]),
                            "layers": {lay["name"]: lay["channels"] for lay in man["layers"]},
                            "entries": {lay["name"]: lay for lay in man["layers"]}}
        # Inputs whose maps were logged, per layer with maps (at the latest step).
        runs[run["run"]]["mapped"] = {
            name: [i for i in range(man["n_inputs"]) if client.get(PREFIX + "/overlay?" + urllib.parse.urlencode(
                dict(run=run["run"], layer=name, index=i, channel=0))).status_code == 200]
            for name, lay in runs[run["run"]]["entries"].items() if lay.get("has_maps")}
    assert set(runs) == {"torch", "both", "synthetic"}, runs
    return client, World(runs)


def check_response(route: str, url: str, resp) -> None:
    """The fuzzing oracle (see the module docstring)."""
    status = resp.status_code
    _status[status] = _status.get(status, 0) + 1
    data = resp.get_data()
    ctype = resp.headers.get("Content-Type", "")
    assert status < 500, f"{url} -> {status}: {data[:400]!r}"
    if route == "/static/*" and status == 404 and data == b"Not found" and ctype.startswith("text/plain"):
        # TensorBoard's own router (it re-parses the decoded path, so ".../static/%3F" has an
        # empty file part): the plugin is not reached.
        return
    if 400 <= status < 500:
        assert ctype.startswith("application/json"), (url, status, ctype)
        body = json.loads(data)
        assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], (url, body)
        assert "parameter" in body, (url, body)
        return
    assert status == 200, (url, status, data[:200])
    if route in ("/index.js", "/static/*"):
        assert data, url
        return
    if ctype == "image/png":
        assert data[:8] == b"\x89PNG\r\n\x1a\n", url
    else:
        assert ctype.startswith("application/json"), (url, ctype)
        json.loads(data)


def _settings(n: int):
    return settings(
        max_examples=max(1, int(n * SCALE)),
        deadline=None,
        database=None,
        derandomize=os.environ.get("CE_FUZZ_RANDOM", "") != "1",
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )


# ---------------------------------------------------------------------- tests
def test_every_route_is_documented():
    """Every data route has a ``### `GET /route?...` `` section in http_api.md, so it is fuzzed with its parameters."""
    undocumented = [r for r in ROUTES if r not in DOCS and r not in ("/index.js", "/static/*")]
    assert not undocumented, f"routes missing from http_api.md: {undocumented}"


@pytest.mark.parametrize("route", ROUTES)
def test_fuzz_route(route, fuzz_env):
    client, world = fuzz_env
    n = BUDGET.get(route, DEFAULT_BUDGET)

    if route == "/static/*":
        strategy = static_path_strategy().map(lambda p: f"{PREFIX}/static/{p}")
    elif route == "/index.js":
        strategy = query_strategy(world, "/index.js").map(lambda q: f"{PREFIX}/index.js?{q}")
    else:
        strategy = query_strategy(world, route).map(lambda q: f"{PREFIX}{route}?{q}")

    @_settings(n)
    @given(url=strategy)
    def fuzz(url):
        _counts[route] = _counts.get(route, 0) + 1
        check_response(route, url, client.get(url))
        if route == "/static/*":
            # Whatever the path, a 200 only ever serves a file of static/.
            resp = client.get(url)
            if resp.status_code == 200:
                assert resp.get_data() in _static_files(), url

    fuzz()


_STATIC_CACHE: list = []


def _static_files() -> set:
    if not _STATIC_CACHE:
        files = set()
        for dirpath, _dirs, names in os.walk(static_files.STATIC_DIR):
            for name in names:
                with open(os.path.join(dirpath, name), "rb") as f:
                    files.add(f.read())
        _STATIC_CACHE.append(files)
    return _STATIC_CACHE[0]


def test_valid_slow_views_answer(fuzz_env):
    """The slow embeddings, valid requests only: t-SNE with k and X-Means, seeds 0-2."""
    client, world = fuzz_env
    for run, info in world.runs.items():
        layer = next(iter(info["layers"]))
        for seed, k in ((0, ""), (1, "2"), (2, str(info["n"]))):
            url = f"{PREFIX}/scatter?" + urllib.parse.urlencode(
                dict(run=run, layer=layer, method="tsne", seed=seed, k=k))
            resp = client.get(url)
            _counts["/scatter"] = _counts.get("/scatter", 0) + 1
            check_response("/scatter", url, resp)
            assert resp.status_code == 200, (url, resp.get_data()[:300])


def test_total_requests():
    """Reports (and, when every route was fuzzed, checks) the number of generated requests."""
    total = sum(_counts.values())
    print(f"\nfuzzed requests: {total} over {len(_counts)} routes; by route {dict(sorted(_counts.items()))}; "
          f"by status {dict(sorted(_status.items()))}")
    if set(ROUTES) - set(_counts) or SCALE < 1:
        pytest.skip("not every route was fuzzed in this session (selection or CE_FUZZ_SCALE < 1)")
    assert total >= MIN_TOTAL_REQUESTS, total


# ------------------------------------------------ valid and invalid by construction
VALID_RUN = "torch"  # written by the real writer: conv layers with maps and filter norms


def _valid_layer(info: dict, draw, need_maps: bool = False, need_filter_norm: bool = False) -> str:
    names = [n for n, e in info["entries"].items() if "pre" in e.get("stages", ["pre"])
             and (not need_maps or info["mapped"].get(n)) and (not need_filter_norm or e.get("has_filter_norm"))]
    return draw(st.sampled_from(sorted(names)))


def valid_request(world: World, route: str, draw) -> dict:
    """Query parameters of `route` that are valid by construction (every one may also be left out)."""
    info = world.runs[VALID_RUN]
    n, steps = info["n"], info["steps"]
    # The valid run is logged without gradients: no Taylor importance to order by.
    order = draw(st.sampled_from([o for o in queries.HEATMAP_ORDERS if o != "taylor"]))
    layer = _valid_layer(info, draw, need_maps=route == "/overlay",
                         need_filter_norm=route in ("/heatmap", "/diff") and order == "filter_norm")
    entry = info["entries"][layer]
    fns = [f for f in entry.get("functions", metadata.SUMMARY_FUNCTIONS) if f in metadata.SUMMARY_FUNCTIONS]
    eta = st.one_of(st.floats(min_value=1e-3, max_value=1.0).map(repr), st.sampled_from(["1", "0.2", ".5"]))
    seed = st.integers(0, 2**32 - 1).map(str)
    index = st.integers(0, n - 1).map(str)
    maybe = lambda strategy: st.one_of(st.none(), strategy)  # noqa: E731 - absent means the default
    table = {
        "run": st.just(VALID_RUN), "step": maybe(st.sampled_from(steps).map(str)), "layer": st.just(layer),
        "fn": maybe(st.sampled_from(fns)), "stage": maybe(st.just("pre")), "eta": maybe(eta), "seed": maybe(seed),
        "normalize": maybe(st.sampled_from(["0", "1"])), "matrix": maybe(st.sampled_from(["values", "counts"])),
        "i": index, "j": index, "index": index,
        "k": maybe(st.one_of(st.just(""), st.integers(1, n).map(str))),
        # Always drawn: the default method of /scatter is t-SNE (slow; see test_valid_slow_views_answer).
        "method": st.sampled_from(["pca", "mds"]), "order": maybe(st.just(order)),
        "offset": maybe(st.integers(0, 10**6).map(str)), "limit": maybe(st.integers(1, 4096).map(str)),
        "channel": st.integers(0, entry["channels"] - 1).map(str), "alpha": maybe(st.floats(0, 1).map(repr)),
        "reference": maybe(st.integers(0, info["classes"] - 1).map(str)),
        "run_b": maybe(st.just(VALID_RUN)), "step_b": maybe(st.sampled_from(steps).map(str)),
        "align": maybe(st.sampled_from(["procrustes", "none"])),
        "steps": maybe(st.lists(st.sampled_from(steps), min_size=1, unique=True).map(
            lambda s: ",".join(str(v) for v in sorted(s)))),
    }
    if route == "/overlay":
        table["index"] = st.sampled_from(info["mapped"][layer]).map(str)
    params = {}
    for name in DOCS.get(route, []):
        if name in table:
            value = draw(table[name])
            if value is not None:
                params[name] = value
    return params


# name -> values that are invalid whatever the other parameters (the route must answer 400 naming it).
def invalid_values(world: World) -> dict:
    info = world.runs[VALID_RUN]
    n = info["n"]
    max_c = max(info["layers"].values())
    return {
        "run": ["nope", "TORCH"], "step": ["-1", "x", "1.5", "99"], "layer": ["nope", "0 "],
        "fn": ["nope", "L2"], "stage": ["mid", "PRE"], "eta": ["0", "1.5", "nan", "-0.1", "x"],
        "seed": ["-1", str(2**32), "x"], "k": ["0", str(n + 1), "x"], "i": ["-1", str(n), "x"],
        "j": ["-1", str(n), "x"], "index": ["-1", str(n), "x"], "channel": ["-1", str(max_c), "x"],
        "limit": ["0", "4097", "x"], "offset": ["-1", "x"], "alpha": ["1.5", "-0.1", "x"],
        "method": ["lda", "PCA"], "order": ["nope"], "align": ["nope"],
        "reference": ["-1", str(info["classes"])], "run_b": ["nope"], "step_b": ["99", "x"],
        "steps": ["x", "99", "0,x"], "matrix": ["csv", "COUNTS"],
    }


DATA_ROUTES = [r for r in ROUTES if r not in ("/index.js", "/static/*", "/runs")]
MODELLED = {"run", "step", "layer", "fn", "stage", "eta", "seed", "normalize", "matrix", "i", "j", "index", "k",
            "method", "order", "offset", "limit", "channel", "alpha", "reference", "run_b", "step_b", "align", "steps"}


def _skip_unmodelled(route: str) -> None:
    unmodelled = sorted(set(DOCS.get(route, [])) - MODELLED)
    if unmodelled:
        pytest.skip(f"the valid values of {route} parameters {unmodelled} are not modelled here")


@pytest.mark.parametrize("route", DATA_ROUTES)
def test_valid_requests_answer_200(route, fuzz_env):
    """Requests valid by construction (real run, its steps, layers, indices in range) answer 200."""
    _skip_unmodelled(route)
    client, world = fuzz_env

    @_settings(40)
    @given(data=st.data())
    def fuzz(data):
        params = valid_request(world, route, data.draw)
        url = f"{PREFIX}{route}?" + urllib.parse.urlencode(params)
        resp = client.get(url)
        _counts[route] = _counts.get(route, 0) + 1
        check_response(route, url, resp)
        assert resp.status_code == 200, (url, resp.get_data()[:300])

    fuzz()


@pytest.mark.parametrize("route", DATA_ROUTES)
def test_invalid_parameter_is_named(route, fuzz_env):
    """One invalid parameter in an otherwise valid request: 400 naming that parameter."""
    _skip_unmodelled(route)
    client, world = fuzz_env
    bad = invalid_values(world)
    names = [name for name in DOCS.get(route, []) if name in bad]
    if not names:
        pytest.skip(f"{route} has no parameter with a value invalid on its own")

    @_settings(40)
    @given(data=st.data())
    def fuzz(data):
        params = valid_request(world, route, data.draw)
        name = data.draw(st.sampled_from(names))
        params[name] = data.draw(st.sampled_from(bad[name]))
        url = f"{PREFIX}{route}?" + urllib.parse.urlencode(params)
        resp = client.get(url)
        _counts[route] = _counts.get(route, 0) + 1
        check_response(route, url, resp)
        body = json.loads(resp.get_data())
        assert resp.status_code == 400 and body["parameter"] == name, (url, resp.status_code, body)

    fuzz()
