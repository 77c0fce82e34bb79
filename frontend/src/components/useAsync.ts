/**
 * `useAsync`: runs an async loader when its dependencies change, aborting the
 * previous request, and exposes `{data, error, loading}` for the loading,
 * error and ready states of every view.
 */
import { useEffect, useRef, useState } from "react";
import type { DependencyList } from "react";

/** State of one async load. */
export interface AsyncState<T> {
  data: T | null;
  error: Error | null;
  loading: boolean;
}

/**
 * Loads data with `load(signal)` whenever `deps` change.
 *
 * Args:
 *   load: the loader; `null` disables loading (state resets to idle).
 *   deps: when to reload.
 *
 * Returns:
 *   The current state; `data` keeps the previous value while reloading, so
 *   views do not flash empty on a step change.
 */
export function useAsync<T>(load: ((signal: AbortSignal) => Promise<T>) | null, deps: DependencyList): AsyncState<T> {
  const [state, setState] = useState<AsyncState<T>>({ data: null, error: null, loading: load !== null });
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const fn = loadRef.current;
    if (!fn) {
      setState({ data: null, error: null, loading: false });
      return;
    }
    const controller = new AbortController();
    setState((s) => ({ data: s.data, error: null, loading: true }));
    fn(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setState({ data, error: null, loading: false });
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        const err = error instanceof Error ? error : new Error(String(error));
        setState({ data: null, error: err, loading: false });
      },
    );
    return () => controller.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return state;
}
