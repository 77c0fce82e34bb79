/** What the tab shows when no run has ChannelExplorer data. */

/** The snippet shown when no run holds ChannelExplorer data. */
export const LOG_LAYERS_SNIPPET = `from tensorboard_plugin_channelexplorer import ChannelExplorerWriter

ce_writer = ChannelExplorerWriter("runs/exp1")
for epoch in range(epochs):
    train_one_epoch(model)
    ce_writer.log_layers(model, images, labels=y, step=epoch)
ce_writer.close()`;

/** Empty state of the tab: how to log data. */
export function EmptyState() {
  return (
    <div className="ce-empty" data-testid="empty-state">
      <h2>No ChannelExplorer data was found</h2>
      <p>
        Log per-layer channel summaries of a PyTorch model with <code>log_layers</code>, then point TensorBoard at the
        log directory:
      </p>
      <pre className="ce-code">
        <code>{LOG_LAYERS_SNIPPET}</code>
      </pre>
      <p className="ce-muted">
        Then run <code>tensorboard --logdir runs</code>. The tab refreshes when you press TensorBoard's reload button.
      </p>
    </div>
  );
}
