/**
 * Which panels each layer node has open, per compare side, in a store the tab
 * owns: the URL hash restores it, and back / forward move through it.
 */
import { createContext, createElement, useCallback, useContext, useMemo, useState, useSyncExternalStore } from "react";
import type { ReactNode } from "react";
import { createStore } from "../state";
import type { Store } from "../state";
import type { PanelKind } from "./panelKinds";

/** Open panels by layer, in opening order. */
export type OpenMap = ReadonlyMap<string, PanelKind[]>;

/** Open panels of both sides. */
export interface OpenPanels {
  a: OpenMap;
  b: OpenMap;
}

export const NO_PANELS: OpenPanels = { a: new Map(), b: new Map() };

const OpenPanelsCtx = createContext<Store<OpenPanels> | null>(null);

/** Creates the store of the tab. */
export function createOpenPanelsStore(initial: OpenPanels = NO_PANELS): Store<OpenPanels> {
  return createStore<OpenPanels>(initial);
}

/** Provides the store to the graphs below. */
export function OpenPanelsProvider({ store, children }: { store: Store<OpenPanels>; children?: ReactNode }) {
  return createElement(OpenPanelsCtx.Provider, { value: store }, children);
}

type Update = OpenMap | ((prev: OpenMap) => OpenMap);

/**
 * The open panels of one side and their setter; local state when no store is
 * provided (a graph rendered on its own).
 */
export function useOpenPanels(side: "a" | "b"): [OpenMap, (u: Update) => void] {
  const store = useContext(OpenPanelsCtx);
  const [local, setLocal] = useState<OpenMap>(() => new Map());
  const fallback = useMemo(() => createStore<OpenPanels>(NO_PANELS), []);
  const s = store ?? fallback;
  const all = useSyncExternalStore(s.subscribe, s.get, s.get);
  const set = useCallback(
    (u: Update) => {
      if (!store) return setLocal(u);
      store.set((prev) => ({ ...prev, [side]: typeof u === "function" ? u(prev[side]) : u }));
    },
    [store, side],
  );
  return store ? [all[side], set] : [local, set];
}
