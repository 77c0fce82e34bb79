"""Tests of the model graph extraction (fx and hooks paths)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tensorboard_plugin_channelexplorer.graph import extract_graph, leaf_modules


def _edges(g):
    return [(e["source"], e["target"]) for e in g["edges"]]


def _nodes(g):
    return {n["id"]: n for n in g["nodes"]}


def _hook_count(model):
    return sum(
        len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks)
        for m in model.modules()
    )


class PlainCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.act = nn.ReLU()
        self.conv2 = nn.Conv2d(4, 8, 3)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        x = self.pool(self.conv2(torch.relu(self.conv1(x))))
        return self.fc(x.flatten(1))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):
        identity = x
        out = self.conv2(torch.relu(self.bn1(self.conv1(x))))
        return torch.relu(out + identity)


class ResNetish(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 4, 3, padding=1)
        self.layer1 = nn.Sequential(Block(4))
        self.fc = nn.Linear(4, 2)

    def forward(self, x):
        x = self.layer1(self.stem(x))
        return self.fc(x.mean(dim=(2, 3)))


class DataDependent(ResNetish):
    def forward(self, x):
        x = self.stem(x)
        if x.sum() > 0:  # fx cannot trace this
            x = self.layer1(x)
        else:
            x = self.layer1(x)
        return self.fc(x.mean(dim=(2, 3)))


def test_leaf_modules():
    m = ResNetish()
    assert list(leaf_modules(m)) == ["stem", "layer1.0.conv1", "layer1.0.bn1", "layer1.0.conv2", "fc"]
    assert list(leaf_modules(m, leaf_types=(Block,))) == ["stem", "layer1.0", "fc"]


def test_plain_cnn_edges_in_order():
    g = extract_graph(PlainCNN(), (torch.randn(2, 1, 8, 8),))
    assert g["source"] == "fx"
    assert _edges(g) == [
        ("input", "conv1"),
        ("conv1", "conv2"),  # functional relu collapsed
        ("conv2", "pool"),
        ("pool", "fc"),  # flatten collapsed
        ("fc", "output"),
    ]
    nodes = _nodes(g)
    assert "act" not in nodes  # never called
    assert nodes["conv1"]["shape"] == [4, 6, 6]
    assert nodes["conv1"]["params"] == 4 * 9 + 4
    assert nodes["input"]["shape"] == [1, 8, 8]
    assert nodes["output"]["shape"] == [3]
    assert nodes["fc"]["type"] == "Linear"
    assert all(n["logged"] is False for n in g["nodes"])
    assert set(nodes["conv1"]) == {"id", "name", "type", "shape", "params", "logged", "parent"}


def _check_resnet_block(g):
    nodes = _nodes(g)
    assert nodes["add_1"]["type"] == "Add"
    assert nodes["add_1"]["parent"] == "layer1.0"
    assert nodes["add_1"]["shape"] == [4, 6, 6]
    into_add = {s for s, t in _edges(g) if t == "add_1"}
    assert into_add == {"layer1.0.conv2", "stem"}  # the skip connection
    assert ("add_1", "fc") in _edges(g)
    assert ("stem", "layer1.0.conv1") in _edges(g)
    assert ("layer1.0.bn1", "layer1.0.conv2") in _edges(g)
    assert nodes["layer1.0.conv1"]["parent"] == "layer1.0"
    assert nodes["stem"]["parent"] == ""


def test_resnet_block_skip_connection_fx():
    g = extract_graph(ResNetish(), (torch.randn(2, 3, 6, 6),))
    assert g["source"] == "fx"
    _check_resnet_block(g)


def test_data_dependent_model_falls_back_to_hooks():
    model = DataDependent()
    g = extract_graph(model, (torch.randn(2, 3, 6, 6),))
    assert g["source"] == "hooks"
    _check_resnet_block(g)
    assert _hook_count(model) == 0


def test_leaf_types_keep_block_as_one_node():
    g = extract_graph(ResNetish(), (torch.randn(1, 3, 6, 6),), leaf_types=(Block,))
    assert _edges(g) == [("input", "stem"), ("stem", "layer1.0"), ("layer1.0", "fc"), ("fc", "output")]
    assert _nodes(g)["layer1.0"]["type"] == "Block"
    assert _nodes(g)["layer1.0"]["params"] == sum(p.numel() for p in Block(4).parameters())


class Reordered(nn.Module):
    """Registration order a, b, c; call order c, a, b."""

    def __init__(self):
        super().__init__()
        self.a = nn.Linear(4, 4)
        self.b = nn.Linear(4, 2)
        self.c = nn.Linear(3, 4)

    def forward(self, x):
        return self.b(self.a(self.c(x)))


@pytest.mark.parametrize("force_hooks", [False, True])
def test_edges_follow_calls_not_registration(force_hooks, monkeypatch):
    if force_hooks:
        import tensorboard_plugin_channelexplorer.graph as graph_mod

        def boom(*args, **kwargs):
            raise RuntimeError("no fx")

        monkeypatch.setattr(graph_mod, "_fx_graph", boom)
    g = extract_graph(Reordered(), (torch.randn(2, 3),))
    assert g["source"] == ("hooks" if force_hooks else "fx")
    assert _edges(g) == [("input", "c"), ("c", "a"), ("a", "b"), ("b", "output")]


class Twice(nn.Module):
    def __init__(self):
        super().__init__()
        self.pre = nn.Linear(4, 4)
        self.shared = nn.Linear(4, 4)
        self.post = nn.Linear(4, 2)

    def forward(self, x):
        x = self.shared(self.pre(x))
        x = self.shared(torch.tanh(x))
        return self.post(x)


class TwiceDyn(Twice):
    def forward(self, x):
        x = self.shared(self.pre(x))
        if x.mean() > -1e9:
            x = self.shared(torch.tanh(x))
        return self.post(x)


@pytest.mark.parametrize("cls,source", [(Twice, "fx"), (TwiceDyn, "hooks")])
def test_module_called_twice_is_one_node(cls, source):
    g = extract_graph(cls(), (torch.randn(2, 4),))
    assert g["source"] == source
    ids = [n["id"] for n in g["nodes"]]
    assert ids.count("shared") == 1
    assert _edges(g) == [("input", "pre"), ("pre", "shared"), ("shared", "post"), ("post", "output")]
    assert len(set(_edges(g))) == len(_edges(g))


class TupleDictOut(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(2, 3, 1)
        self.b = nn.Conv2d(2, 5, 1)

    def forward(self, x, y):
        u, v = self.a(x), self.b(y)
        return {"cat": torch.cat([u, v], dim=1), "pair": (u, v * v)}


class TupleDictOutDyn(TupleDictOut):
    def forward(self, x, y):
        if x.max() > -1e9:
            return super().forward(x, y)
        return None


@pytest.mark.parametrize("cls,source", [(TupleDictOut, "fx"), (TupleDictOutDyn, "hooks")])
def test_tuple_dict_outputs_and_two_inputs(cls, source):
    g = extract_graph(cls(), (torch.randn(1, 2, 4, 4), torch.randn(1, 2, 4, 4)))
    assert g["source"] == source
    e = set(_edges(g))
    assert {("input_0", "a"), ("input_1", "b"), ("a", "cat_1"), ("b", "cat_1")} <= e
    assert {("cat_1", "output"), ("a", "output")} <= e
    nodes = _nodes(g)
    assert nodes["cat_1"]["type"] == "Cat"
    assert nodes["cat_1"]["shape"] == [8, 4, 4]
    assert nodes["output"]["shape"] == [8, 4, 4]
    # v * v has one producer: it is collapsed, not a Mul node.
    assert ("b", "output") in e
    assert not any(n["type"] == "Mul" for n in g["nodes"])


class Gate(nn.Module):
    def __init__(self):
        super().__init__()
        self.feat = nn.Conv2d(2, 4, 1)
        self.gate = nn.Conv2d(2, 4, 1)
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, x):
        return self.feat(x) * torch.sigmoid(self.gate(x)) * self.scale + 1.0


def test_mul_merge_and_scalar_ops_collapsed():
    g = extract_graph(Gate(), (torch.randn(1, 2, 3, 3),))
    into_mul = {s for s, t in _edges(g) if t == "mul_1"}
    assert into_mul == {"feat", "gate"}
    assert [n["id"] for n in g["nodes"] if n["type"] in ("Add", "Mul", "Cat")] == ["mul_1"]
    assert ("mul_1", "output") in _edges(g)


class Failing(nn.Module):
    def __init__(self, dynamic):
        super().__init__()
        self.dynamic = dynamic
        self.a = nn.Linear(4, 4)
        self.b = nn.Sequential(nn.Linear(5, 2))  # wrong in_features: forward raises

    def forward(self, x):
        x = self.a(x)
        if self.dynamic and x.sum() > -1e9:
            x = x + 0
        return self.b(x)


def test_hooks_removed_after_failing_forward():
    model = Failing(dynamic=True)
    with pytest.raises(RuntimeError):
        extract_graph(model, (torch.randn(2, 4),))
    assert _hook_count(model) == 0
    # fx path: the graph is still returned, without shapes.
    model = Failing(dynamic=False)
    g = extract_graph(model, (torch.randn(2, 4),))
    assert g["source"] == "fx"
    assert _edges(g) == [("input", "a"), ("a", "b.0"), ("b.0", "output")]
    assert _nodes(g)["a"]["shape"] is None
    assert _hook_count(model) == 0


@pytest.mark.parametrize("cls", [ResNetish, DataDependent])
@pytest.mark.parametrize("training", [True, False])
def test_model_left_untouched(cls, training):
    torch.manual_seed(0)
    model = cls().train(training)
    model.layer1[0].register_forward_hook(lambda *a: None)  # a user hook stays
    before = {k: v.clone() for k, v in model.state_dict().items()}
    hooks_before = _hook_count(model)
    x = torch.randn(2, 3, 6, 6, requires_grad=True)
    rng = torch.get_rng_state()
    extract_graph(model, (x,))
    assert model.training is training
    assert all(m.training is training for m in model.modules())
    after = model.state_dict()
    for k, v in before.items():
        assert torch.equal(v, after[k]), k  # BatchNorm running stats restored
    assert _hook_count(model) == hooks_before
    assert torch.equal(torch.get_rng_state(), rng)
    assert x.grad is None
    assert all(p.grad is None for p in model.parameters())


def test_single_module_model_and_tensor_input():
    g = extract_graph(nn.Conv2d(3, 4, 3), torch.randn(1, 3, 5, 5))
    assert _edges(g) == [("input", "Conv2d"), ("Conv2d", "output")]
    assert _nodes(g)["Conv2d"]["shape"] == [4, 3, 3]


def test_inplace_add_and_inplace_relu_module_hooks():
    class Inplace(nn.Module):
        def __init__(self):
            super().__init__()
            self.c1 = nn.Conv2d(2, 2, 1)
            self.c2 = nn.Conv2d(2, 2, 1)
            self.relu = nn.ReLU(inplace=True)
            self.c3 = nn.Conv2d(2, 2, 1)

        def forward(self, x):
            y = self.c1(x)
            z = self.c2(y)
            if z.sum() > -1e9:
                z += y
            return self.c3(self.relu(z))

    g = extract_graph(Inplace(), (torch.randn(1, 2, 3, 3),))
    assert g["source"] == "hooks"
    assert _edges(g) == [
        ("input", "c1"),
        ("c1", "c2"),
        ("c2", "add_1"),
        ("c1", "add_1"),
        ("add_1", "relu"),
        ("relu", "c3"),
        ("c3", "output"),
    ]


@pytest.mark.parametrize(
    "args",
    [
        ("not a model", (torch.randn(1),)),
        (nn.Linear(2, 2), "x"),
    ],
)
def test_invalid_arguments(args):
    with pytest.raises(ValueError):
        extract_graph(*args)
    with pytest.raises(ValueError):
        extract_graph(nn.Linear(2, 2), (torch.randn(1, 2),), leaf_types=(int,))
