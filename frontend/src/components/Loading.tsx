/** A loading indicator. */

/** A small spinner with a label. */
export function Loading({ label = "Loading…", compact = false }: { label?: string; compact?: boolean }) {
  return (
    <div
      className={compact ? "ce-loading ce-loading--compact" : "ce-loading"}
      role="status"
      aria-live="polite"
      data-testid="loading"
    >
      <span className="ce-spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}
