/**
 * Shared selection state: the linking between every view of the tab.
 *
 * A tiny external store (no library) read through `useSyncExternalStore`, so
 * selecting inputs in any panel (scatter brush, Jaccard cell, hierarchy node,
 * dataset class) highlights them in every other panel, in both compare sides.
 */
import { createContext, createElement, useCallback, useContext, useMemo, useSyncExternalStore } from "react";
import type { ReactNode } from "react";

/** What is selected. Sets are replaced, never mutated, so React sees changes. */
export interface Selection {
  /** Selected input indices. */
  inputs: ReadonlySet<number>;
  /** Selected class ids. */
  classes: ReadonlySet<number>;
  /** Which view made the selection (e.g. `scatter:features.0`), for display. */
  source: string | null;
}

export const EMPTY_SELECTION: Selection = Object.freeze({
  inputs: new Set<number>(),
  classes: new Set<number>(),
  source: null,
}) as Selection;

/** A minimal observable store. */
export interface Store<T> {
  get(): T;
  set(next: T | ((prev: T) => T)): void;
  subscribe(listener: () => void): () => void;
}

/** Creates a store holding `initial`. */
export function createStore<T>(initial: T): Store<T> {
  let value = initial;
  const listeners = new Set<() => void>();
  return {
    get: () => value,
    set(next) {
      const v = typeof next === "function" ? (next as (prev: T) => T)(value) : next;
      if (Object.is(v, value)) return;
      value = v;
      for (const l of Array.from(listeners)) l();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

function sanitizeIndices(values: Iterable<number>, what: string): Set<number> {
  const out = new Set<number>();
  for (const v of values) {
    if (!Number.isInteger(v) || v < 0) throw new Error(`${what}: expected non-negative integers, got ${v}`);
    out.add(v);
  }
  return out;
}

/** Actions on the selection store (pure functions of the previous state). */
export function selectionActions(store: Store<Selection>) {
  return {
    /** Replaces the selected inputs. */
    selectInputs(indices: Iterable<number>, source: string | null = null) {
      const inputs = sanitizeIndices(indices, "selectInputs");
      store.set((prev) => ({ ...prev, inputs, source }));
    },
    /** Adds or removes one input. */
    toggleInput(index: number, source: string | null = null) {
      sanitizeIndices([index], "toggleInput");
      store.set((prev) => {
        const inputs = new Set(prev.inputs);
        if (inputs.has(index)) inputs.delete(index);
        else inputs.add(index);
        return { ...prev, inputs, source };
      });
    },
    /** Replaces the selected classes. */
    selectClasses(classes: Iterable<number>, source: string | null = null) {
      const cls = sanitizeIndices(classes, "selectClasses");
      store.set((prev) => ({ ...prev, classes: cls, source }));
    },
    /** Clears everything. */
    clear() {
      store.set(EMPTY_SELECTION);
    },
  };
}

export type SelectionActions = ReturnType<typeof selectionActions>;

const SelectionContext = createContext<Store<Selection> | null>(null);

/** Provides one selection store to the tree (one per tab). */
export function SelectionProvider({ store, children }: { store?: Store<Selection>; children?: ReactNode }) {
  const value = useMemo(() => store ?? createStore<Selection>(EMPTY_SELECTION), [store]);
  return createElement(SelectionContext.Provider, { value }, children);
}

function useStore(): Store<Selection> {
  const store = useContext(SelectionContext);
  if (!store) throw new Error("useSelection must be used inside <SelectionProvider>");
  return store;
}

/** Current selection plus actions; re-renders on change. */
export function useSelection(): [Selection, SelectionActions] {
  const store = useStore();
  const selection = useSyncExternalStore(store.subscribe, store.get, store.get);
  const actions = useMemo(() => selectionActions(store), [store]);
  return [selection, actions];
}

/**
 * The selection in the shape of `SelectionProps` (`types.ts`) for the pure panels.
 *
 * Args:
 *   source: name of the view, recorded with selections it makes.
 */
export function usePanelSelection(source: string): { selected: Set<number>; onSelect: (indices: number[]) => void } {
  const [selection, actions] = useSelection();
  const onSelect = useCallback((indices: number[]) => actions.selectInputs(indices, source), [actions, source]);
  return { selected: selection.inputs as Set<number>, onSelect };
}
