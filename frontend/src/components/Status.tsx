/**
 * Loading, error and empty states shared by every view. All text is rendered
 * as React text (escaped), never as HTML.
 */
import type { ReactNode } from "react";

/** A small spinner with a label. */
export function Loading({ label = "Loading…", compact = false }: { label?: string; compact?: boolean }) {
  return (
    <div className={compact ? "ce-loading ce-loading--compact" : "ce-loading"} role="status" aria-live="polite" data-testid="loading">
      <span className="ce-spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

/** A readable backend error (the backend's JSON `error` message). */
export function ErrorBox({ error, title = "Could not load", onRetry }: { error: Error; title?: string; onRetry?: () => void }) {
  return (
    <div className="ce-error" role="alert" data-testid="error">
      <strong>{title}</strong>
      <span className="ce-error__msg">{error.message}</span>
      {onRetry && (
        <button type="button" className="ce-btn ce-btn--small" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

/** Renders loading / error / children depending on an async state. */
export function AsyncView<T>({
  state,
  children,
  label,
  compact,
}: {
  state: { data: T | null; error: Error | null; loading: boolean };
  children: (data: T) => ReactNode;
  label?: string;
  compact?: boolean;
}) {
  if (state.error) return <ErrorBox error={state.error} />;
  if (state.data === null) return <Loading label={label} compact={compact} />;
  return (
    <div className="ce-async" data-loading={state.loading ? "true" : "false"}>
      {children(state.data)}
      {state.loading && <div className="ce-async__veil" aria-hidden="true" />}
    </div>
  );
}

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
