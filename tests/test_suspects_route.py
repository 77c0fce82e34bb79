"""``/suspects`` over real event files, via a werkzeug test client."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import get_json, make_client

from tensorboard_plugin_channelexplorer.views import suspects

L = {"run": "main", "step": 2, "layer": "features.0"}


@pytest.fixture(scope="module")
def client(providers):
    return make_client(providers("python"))[2]


def test_one_layer_ranked_with_the_logged_predictions(client):
    body = get_json(client, "/suspects", limit=5, **L)
    assert body["fn"] == "l2" and body["stage"] == "pre" and body["class_names"] == ["class0", "class1", "class2"]
    (lay,) = body["layers"]
    assert lay["layer"] == "features.0" and lay["n_inputs"] == 24 and lay["method"] == "neighbours+model"
    assert len(lay["suspects"]) == 5 and lay["truncated"] is True
    scores = [s["score"] for s in lay["suspects"]]
    assert scores == sorted(scores, reverse=True)
    # The route serves the view of the logged summaries, labels and predictions.
    S = np.asarray(get_json(client, "/summaries", fn="l2", **L)["values"])
    inputs = get_json(client, "/inputs", run="main", step=2)
    want = suspects.suspects_view(S, inputs["labels"], predictions=inputs["predictions"],
                                  confidences=inputs["probabilities"], limit=5, n_classes=3)
    assert [s["index"] for s in lay["suspects"]] == [s["index"] for s in want["suspects"]]
    np.testing.assert_allclose(scores, [s["score"] for s in want["suspects"]], atol=1e-6)
    for s in lay["suspects"]:
        assert s["given"] == inputs["labels"][s["index"]]
        assert s["flagged"] == (s["score"] > 0.5)


def test_all_layers_and_options(client):
    body = get_json(client, "/suspects", run="main", step=2, predictions=0, k=3, threshold=0.2, limit=0)
    names = [lay["name"] for lay in get_json(client, "/layers", run="main", step=2)["layers"]
             if "pre" in lay.get("stages", ["pre"])]
    assert [lay["layer"] for lay in body["layers"]] == names
    for lay in body["layers"]:
        assert lay["method"] == "neighbours" and lay["k"] == 3 and lay["threshold"] == 0.2
        assert lay["suspects"] == [] and lay["n_inputs"] == 24


@pytest.mark.parametrize("params,parameter", [
    (dict(L, k=0), "k"),
    (dict(L, threshold=1.5), "threshold"),
    (dict(L, threshold="x"), "threshold"),
    (dict(L, limit=-1), "limit"),
    (dict(L, limit=5000), "limit"),
    (dict(L, predictions="maybe"), "predictions"),
    (dict(L, fn="median"), "fn"),
    ({"run": "main", "layer": "nope"}, "layer"),
    ({"run": "nope"}, "run"),
])
def test_bad_params_are_400_naming_the_parameter(client, params, parameter):
    assert get_json(client, "/suspects", 400, **params)["parameter"] == parameter


def test_corrupt_record_is_404(client):
    body = get_json(client, "/suspects", 404, run="corrupt", step=0, layer="features.0")
    assert "corrupt" in body["error"]
