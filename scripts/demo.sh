#!/usr/bin/env bash
# Sets up, trains the digits CNN for a few epochs with log_layers at every
# epoch, then serves TensorBoard with the ChannelExplorer tab on 127.0.0.1:6006.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
LOGDIR="${LOGDIR:-runs/quickstart}"
python3 examples/quickstart.py --logdir "$LOGDIR" --epochs "${EPOCHS:-5}"
echo "Open http://127.0.0.1:6006/#channelexplorer"
exec tensorboard --logdir "$(dirname "$LOGDIR")" --host 127.0.0.1 --port 6006 \
  --samples_per_plugin channelexplorer=0
