"""ChannelExplorer for TensorBoard.

The logging API (`ChannelExplorerWriter`) imports torch, so it is loaded
lazily: TensorBoard imports this package to load the plugin, and an import
error there would take down all of TensorBoard.
"""

__version__ = "0.1.0"

__all__ = ["ChannelExplorerWriter", "__version__"]


def __getattr__(name):
    if name == "ChannelExplorerWriter":
        from tensorboard_plugin_channelexplorer.writer import ChannelExplorerWriter

        return ChannelExplorerWriter
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
