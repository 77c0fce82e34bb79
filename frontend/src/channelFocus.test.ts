import { describe, expect, it } from "vitest";
import { createStore } from "./state";
import { channelActions, selectedChannelsOf, type ChannelFocus } from "./channelFocus";

function fresh() {
  const store = createStore<ChannelFocus>({ open: null, selected: null });
  return { store, act: channelActions(store) };
}

describe("channel focus", () => {
  it("opens one card at a time and closes it", () => {
    const { store, act } = fresh();
    act.openChannel({ run: "r", layer: "conv1", channel: 3 });
    act.openChannel({ run: "r", layer: "conv2", channel: 5 });
    expect(store.get().open).toEqual({ run: "r", layer: "conv2", channel: 5 });
    act.closeCard();
    expect(store.get().open).toBeNull();
    expect(() => act.openChannel({ run: "r", layer: "l", channel: -1 })).toThrow(/channel/);
  });
  it("keeps selected channels per (run, layer)", () => {
    const { store, act } = fresh();
    act.selectChannels("r", "conv1", [4, 2, 4]);
    const f = store.get();
    expect([...selectedChannelsOf(f, "r", "conv1")].sort()).toEqual([2, 4]);
    expect(selectedChannelsOf(f, "r", "conv2").size).toBe(0);
    expect(selectedChannelsOf(f, "other", "conv1").size).toBe(0);
    act.selectChannels("r", "conv1", []);
    expect(store.get().selected).toBeNull();
  });
  it("notifies subscribers once per change and not for a no-op close", () => {
    const { store, act } = fresh();
    let calls = 0;
    store.subscribe(() => calls++);
    act.closeCard();
    expect(calls).toBe(0);
    act.openChannel({ run: "r", layer: "l", channel: 0 });
    expect(calls).toBe(1);
  });
});
