"""Integrations: Lightning callback, torch.distributed gather-to-rank-0, a shared SummaryWriter, awkward models."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from tb_process import free_port
from torch import nn

from tensorboard_plugin_channelexplorer import ChannelExplorerWriter, metadata


def _mux(logdir):
    from tensorboard.backend.event_processing import plugin_event_multiplexer

    mux = plugin_event_multiplexer.EventMultiplexer(tensor_size_guidance={"channelexplorer": 0, "scalars": 0})
    mux.AddRunsFromDirectory(str(logdir))
    mux.Reload()
    return mux


def _reader(logdir):
    from tensorboard.backend.event_processing import data_provider

    from tensorboard_plugin_channelexplorer.reader import Reader

    return Reader(data_provider.MultiplexerDataProvider(_mux(logdir), str(logdir)), warned=set())


def _ce_tags(mux, run):
    return {t for t in mux.Runs()[run]["tensors"] if t.startswith(metadata.TAG_PREFIX)}


class TinyCNN(nn.Module):
    def __init__(self, n_classes=3):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(4, 6, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(6, n_classes)

    def forward(self, x):
        x = self.relu2(self.conv2(self.relu1(self.conv1(x))))
        return self.fc(torch.flatten(self.pool(x), 1))


def _probe(n=12, n_classes=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 8, 8, generator=g), torch.arange(n) % n_classes


# ---------------------------------------------------------------- shared SummaryWriter


def test_shared_summary_writer_holds_scalars_and_channelexplorer(tmp_path):
    from torch.utils.tensorboard import SummaryWriter

    torch.manual_seed(0)
    model = TinyCNN()
    x, y = _probe()
    sw = SummaryWriter(str(tmp_path / "run"))
    ce = ChannelExplorerWriter(sw)
    for epoch in range(2):
        sw.add_scalar("train/loss", 1.0 / (epoch + 1), epoch)
        ce.log_layers(model, x, y, step=epoch)
        ce.flush()
    ce.close()
    sw.add_scalar("train/loss", 0.1, 2)  # the SummaryWriter stays usable: ce.close() only flushed it
    sw.close()

    assert len(os.listdir(tmp_path / "run")) == 1, "one event file for both"
    mux = _mux(tmp_path)
    assert mux.Runs() and list(mux.Runs()) == ["run"]
    steps = [e.step for e in mux.Tensors("run", "train/loss")]
    assert steps == [0, 1, 2]
    tags = _ce_tags(mux, "run")
    assert {metadata.MANIFEST_TAG, metadata.INPUTS_TAG, metadata.layer_tag("conv1")} <= tags
    reader = _reader(tmp_path)
    assert reader.steps("run") == [0, 1]
    assert reader.summary_matrix("run", 1, "conv2").shape == (12, 6)


# ---------------------------------------------------------------- awkward models


class TupleModel(TinyCNN):
    def forward(self, x):
        logits = super().forward(x)
        return logits, {"aux": logits.sum()}


class DictModel(TinyCNN):
    def forward(self, x):
        return {"features": self.conv1(x), "logits": super().forward(x)}


class SharedConv(nn.Module):
    """One conv and one pool module applied twice per forward."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 4, 3, padding=1)
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        x = self.pool(self.conv(self.stem(x)))
        x = self.pool(self.conv(x))
        return self.fc(x.mean((2, 3)))


class Untraceable(TinyCNN):
    """Data-dependent control flow: torch.fx cannot trace it."""

    def forward(self, x):
        h = self.relu1(self.conv1(x))
        if h.mean() > -1e9:  # always true, but fx cannot know
            h = h + self.relu2(self.conv2(h))[:, :4]
        return h.mean((2, 3))


@pytest.mark.parametrize("cls", [TupleModel, DictModel])
def test_models_returning_tuples_and_dicts(tmp_path, cls):
    torch.manual_seed(0)
    x, y = _probe()
    with ChannelExplorerWriter(str(tmp_path)) as ce:
        ce.log_layers(cls(), x, y, step=0, class_names=["a", "b", "c"])
    reader = _reader(tmp_path)
    run = reader.runs()[0]
    names = [row["name"] for row in reader.manifest(run, 0)["layers"]]
    assert "conv1" in names and "conv2" in names
    inputs = reader.inputs(run, 0)
    # The logits are found inside the tuple / dict.
    assert "predictions" in inputs and inputs["predictions"].shape == (12,)


def test_module_called_twice_gives_one_entry_per_call(tmp_path):
    torch.manual_seed(0)
    x, y = _probe()
    with ChannelExplorerWriter(str(tmp_path)) as ce:
        ce.log_layers(SharedConv(), x, y, step=0)
    reader = _reader(tmp_path)
    run = reader.runs()[0]
    names = [row["name"] for row in reader.manifest(run, 0)["layers"]]
    assert {"conv", "conv:1", "pool", "pool:1"} <= set(names)
    a = reader.summary_matrix(run, 0, "pool")
    b = reader.summary_matrix(run, 0, "pool:1")
    assert a.shape == b.shape == (12, 4) and not np.allclose(a, b)


def test_untraceable_model_falls_back_to_hook_graph(tmp_path):
    torch.manual_seed(0)
    x, y = _probe()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with ChannelExplorerWriter(str(tmp_path)) as ce:
            ce.log_layers(Untraceable(), x, y, step=0)
    reader = _reader(tmp_path)
    run = reader.runs()[0]
    graph = reader.graph(run, 0)
    assert graph["source"] == "hooks"
    ids = {n["id"] for n in graph["nodes"]}
    assert {"conv1", "conv2"} <= ids
    adds = [n["id"] for n in graph["nodes"] if n["type"] == "Add"]
    assert adds, "the functional h + ... is an Add node"
    assert reader.summary_matrix(run, 0, "conv1").shape == (12, 4)


def test_model_needing_extra_arguments_gives_a_clear_error(tmp_path):
    class TwoInputs(TinyCNN):
        def forward(self, x, t):
            return super().forward(x) + t

    x, y = _probe()
    with ChannelExplorerWriter(str(tmp_path)) as ce:
        with pytest.raises(TypeError, match="t"):
            ce.log_layers(TwoInputs(), x, y, step=0)


# ---------------------------------------------------------------- torch.distributed


def _ddp_worker(rank, world, port, logdir):
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel

    from tensorboard_plugin_channelexplorer.integrations.distributed import DistributedChannelExplorerWriter

    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world)
    try:
        torch.manual_seed(0)  # identical replicas
        model = DistributedDataParallel(TinyCNN())
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        # Rank r holds probe inputs r, r + world, ... (uneven shard sizes: 7 and 6 of 13).
        x_all, y_all = _probe(13)
        idx = torch.arange(rank, 13, world)
        ce = DistributedChannelExplorerWriter(logdir)
        assert ce.is_writer == (rank == 0)
        for epoch in range(2):
            loss = F.cross_entropy(model(x_all[idx]), y_all[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            n = ce.log_layers(model, x_all[idx], y_all[idx], step=epoch, sample_ids=100 + idx,
                              class_names=["a", "b", "c"])
            assert n == (13 if rank == 0 else 0)
        ce.close()  # a collective (barrier), so no gather work is still being freed
        del model, opt
    finally:
        dist.destroy_process_group()


def test_distributed_gather_to_rank0_writes_one_step(tmp_path):
    import torch.multiprocessing as mp

    logdir = str(tmp_path / "ddp")
    mp.spawn(_ddp_worker, args=(2, free_port(), logdir), nprocs=2, join=True)
    reader = _reader(tmp_path)
    assert reader.runs() == ["ddp"]
    assert reader.steps("ddp") == [0, 1]
    inputs = reader.inputs("ddp", 1)
    ids = inputs["sample_ids"]
    assert sorted(ids.tolist()) == list(range(100, 113))
    # Rank order: rank 0's shard first, then rank 1's.
    assert ids.tolist() == [100 + i for i in range(0, 13, 2)] + [100 + i for i in range(1, 13, 2)]
    assert inputs["labels"].tolist() == [int(i) % 3 for i in ids - 100]
    assert reader.manifest("ddp", 1)["n_inputs"] == 13
    assert reader.summary_matrix("ddp", 1, "conv2").shape == (13, 6)
    assert len(os.listdir(logdir)) == 1, "only rank 0 writes"


def test_distributed_requires_initialized_process_group(tmp_path):
    from tensorboard_plugin_channelexplorer.integrations.distributed import (
        DistributedChannelExplorerWriter,
        gather_probe,
    )

    with pytest.raises(ValueError, match="not initialized"):
        DistributedChannelExplorerWriter(str(tmp_path))
    with pytest.raises(ValueError, match="not initialized"):
        gather_probe(torch.zeros(1, 1, 2, 2))


# ---------------------------------------------------------------- Lightning


try:
    import lightning.pytorch as pl
except ImportError:  # an optional extra: only the Lightning tests below are skipped without it
    pl = None
requires_lightning = pytest.mark.skipif(pl is None, reason="PyTorch Lightning is an optional extra")


class LitTiny(pl.LightningModule if pl is not None else nn.Module):
    def __init__(self):
        super().__init__()
        self.net = TinyCNN()

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss, on_step=True, on_epoch=False)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def _fit(tmp_path, callback, logger=True, epochs=2):
    x, y = _probe(24)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=8)
    trainer = pl.Trainer(max_epochs=epochs, callbacks=[callback], logger=logger, accelerator="cpu", devices=1,
                         default_root_dir=str(tmp_path), enable_progress_bar=False, enable_model_summary=False,
                         enable_checkpointing=False, log_every_n_steps=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer.fit(LitTiny(), loader)
    return trainer


@requires_lightning
def test_lightning_callback_shares_the_tensorboard_logger_run(tmp_path):
    from tensorboard_plugin_channelexplorer.integrations.lightning import ChannelExplorerCallback

    x, y = _probe(9)
    cb = ChannelExplorerCallback(x, y, every_n_epochs=1, class_names=["a", "b", "c"], layers=["net.conv1", "net.conv2"])
    _fit(tmp_path, cb, logger=pl.loggers.TensorBoardLogger(str(tmp_path), name="lightning_logs"))
    assert cb.logged_epochs == [0, 1]
    run_dir = tmp_path / "lightning_logs" / "version_0"
    assert len([f for f in os.listdir(run_dir) if f.startswith("events.")]) == 1
    mux = _mux(tmp_path)
    run = os.path.join("lightning_logs", "version_0")
    assert "train_loss" in mux.Runs()[run]["tensors"] or "train_loss" in mux.Runs()[run].get("scalars", [])
    assert {metadata.layer_tag("net.conv1"), metadata.layer_tag("net.conv2")} <= _ce_tags(mux, run)
    reader = _reader(tmp_path)
    assert reader.steps(run) == [0, 1]
    assert reader.manifest(run, 1)["class_names"] == ["a", "b", "c"]
    assert reader.summary_matrix(run, 1, "net.conv2").shape == (9, 6)


@requires_lightning
def test_lightning_callback_every_n_epochs_and_own_log_dir(tmp_path):
    from tensorboard_plugin_channelexplorer.integrations.lightning import ChannelExplorerCallback

    x, y = _probe(6)
    cb = ChannelExplorerCallback(x, y, every_n_epochs=2, log_dir=str(tmp_path / "ce"))
    _fit(tmp_path, cb, logger=False, epochs=3)
    assert cb.logged_epochs == [1]
    reader = _reader(tmp_path / "ce")
    assert reader.steps(reader.runs()[0]) == [1]


@requires_lightning
def test_lightning_callback_validates_arguments():
    from tensorboard_plugin_channelexplorer.integrations.lightning import ChannelExplorerCallback

    x, y = _probe(6)
    with pytest.raises(ValueError, match="every_n_epochs"):
        ChannelExplorerCallback(x, y, every_n_epochs=0)
    with pytest.raises(ValueError, match="probe_images"):
        ChannelExplorerCallback(x[0], y)
    with pytest.raises(ValueError, match="probe_labels"):
        ChannelExplorerCallback(x, y[:3])
    with pytest.raises(ValueError, match="unexpected"):
        ChannelExplorerCallback(x, y, colour="red")
