"""Packaging for the ChannelExplorer TensorBoard plugin.

The frontend bundle in ``tensorboard_plugin_channelexplorer/static`` is built
from ``frontend/`` and committed, so installing needs no Node.js.
"""

import os

import setuptools

HERE = os.path.dirname(os.path.abspath(__file__))


def _requirements():
    with open(os.path.join(HERE, "requirements.txt"), encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


setuptools.setup(
    name="tensorboard_plugin_channelexplorer",
    version="0.1.0",
    description="ChannelExplorer: class separability across layers and channels, as a TensorBoard tab",
    long_description=open(os.path.join(HERE, "README.md"), encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    packages=setuptools.find_packages(include=["tensorboard_plugin_channelexplorer", "tensorboard_plugin_channelexplorer.*"]),
    package_data={"tensorboard_plugin_channelexplorer": ["static/**/*", "static/*", "http_api.md"]},
    include_package_data=True,
    python_requires=">=3.10",
    install_requires=_requirements(),
    extras_require={"lightning": ["lightning"]},
    entry_points={
        "tensorboard_plugins": [
            "channelexplorer = tensorboard_plugin_channelexplorer.plugin:ChannelExplorerPlugin",
        ],
    },
    license="Apache-2.0",
)
