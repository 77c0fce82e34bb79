import { describe, expect, it } from "vitest";
import { EMPTY_SELECTION, createStore, selectionActions } from "./state";
import type { Selection } from "./state";

describe("selection store", () => {
  it("notifies subscribers and replaces sets", () => {
    const store = createStore<Selection>(EMPTY_SELECTION);
    const a = selectionActions(store);
    let calls = 0;
    const unsub = store.subscribe(() => calls++);
    a.selectInputs([3, 1, 3], "scatter:x");
    const first = store.get().inputs;
    expect([...first].sort()).toEqual([1, 3]);
    expect(store.get().source).toBe("scatter:x");
    a.toggleInput(1);
    expect(store.get().inputs).not.toBe(first);
    expect([...store.get().inputs]).toEqual([3]);
    a.selectClasses([2]);
    expect([...store.get().classes]).toEqual([2]);
    a.clear();
    expect(store.get()).toBe(EMPTY_SELECTION);
    unsub();
    a.selectInputs([0]);
    expect(calls).toBe(4);
  });
  it("rejects invalid indices", () => {
    const a = selectionActions(createStore<Selection>(EMPTY_SELECTION));
    expect(() => a.selectInputs([-1])).toThrow(/non-negative integers/);
    expect(() => a.toggleInput(1.5)).toThrow(/non-negative integers/);
  });
});
