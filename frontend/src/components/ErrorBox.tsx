/** An error message with an optional retry button. */

/** A readable backend error (the backend's JSON `error` message). */
export function ErrorBox({
  error,
  title = "Could not load",
  onRetry,
}: {
  error: Error;
  title?: string;
  onRetry?: () => void;
}) {
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
