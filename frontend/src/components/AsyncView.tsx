/** Renders an async state: loading, error, or its data (kept visible while reloading). */
import type { ReactNode } from "react";
import { Loading } from "./Loading";
import { ErrorBox } from "./ErrorBox";

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
