"""Integrations of the logging API with training frameworks.

* `lightning`: ``ChannelExplorerCallback``, a PyTorch Lightning callback
  (Lightning is an optional dependency: ``pip install lightning``; it is
  imported only when this submodule is imported).
* `distributed`: ``DistributedChannelExplorerWriter``, logging a probe set
  that is sharded over the processes of a ``torch.distributed`` job into one
  step written by one rank.

Nothing here is imported by TensorBoard when it loads the plugin.
"""

__all__ = ["lightning", "distributed"]
