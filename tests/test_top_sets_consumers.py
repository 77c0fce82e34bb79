"""The views built on top-channel sets (diff, hierarchy) follow the "only active channels" rule."""

import numpy as np

from tensorboard_plugin_channelexplorer.views import hierarchy, timeline


def test_diff_sees_inputs_start_sharing_a_channel():
    # C = 10, eta = 0.2: at step a the two inputs fire different channels, at step b the same one.
    S_a = np.zeros((2, 10))
    S_a[0, 0] = S_a[1, 1] = 1.0
    S_b = np.zeros((2, 10))
    S_b[:, 0] = 1.0
    out = timeline.diff_view(S_a, S_b, [0, 1], [0, 1], [10, 11], [10, 11], eta=0.2, order="variance")
    np.testing.assert_allclose(out["diff"], [[0.0, 1.0], [1.0, 0.0]])


def test_sparse_layer_classes_with_disjoint_channels_stay_apart():
    # 60 channels, 52 dead; each of four classes fires its own two channels.
    rng = np.random.default_rng(0)
    S = np.zeros((24, 60))
    for c in range(4):
        S[c * 6:(c + 1) * 6, 2 * c:2 * c + 2] = rng.random((6, 2)) + 0.5
    out = hierarchy.confusion_hierarchy(S, np.repeat(np.arange(4), 6), list("abcd"), eta=0.2)
    np.testing.assert_allclose(out["class_matrix"], np.eye(4))
    assert [s["classes"] for s in out["tree"]["children"]] == [[0], [1], [2], [3]]
