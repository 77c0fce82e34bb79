/**
 * Which channel's card is open and which channels are selected, shared by
 * every channel-aware view of the tab (heatmap, channel clusters, channel
 * embedding, diff ranks). Channels are named by (run, layer, channel), so a
 * selection made in one layer never marks channels of another.
 */
import { useMemo, useSyncExternalStore } from "react";
import { createStore, type Store } from "./state";
import type { ChannelId } from "./transforms/channels";

/** The channel state of the tab. */
export interface ChannelFocus {
  /** The channel whose card is shown, or null. */
  open: ChannelId | null;
  /** Selected channels of one (run, layer), or null. */
  selected: { run: string; layer: string; channels: ReadonlySet<number> } | null;
}

const EMPTY: ChannelFocus = Object.freeze({ open: null, selected: null }) as ChannelFocus;

/** Actions on a channel store. */
export function channelActions(store: Store<ChannelFocus>) {
  return {
    /** Opens the card of a channel (replacing any open card). */
    openChannel(id: ChannelId) {
      if (!Number.isInteger(id.channel) || id.channel < 0) {
        throw new Error(`openChannel: channel must be a non-negative integer, got ${id.channel}`);
      }
      store.set((prev) => ({ ...prev, open: { run: id.run, layer: id.layer, channel: id.channel } }));
    },
    /** Closes the card. */
    closeCard() {
      store.set((prev) => (prev.open ? { ...prev, open: null } : prev));
    },
    /** Replaces the selected channels (of one layer); an empty list clears. */
    selectChannels(run: string, layer: string, channels: Iterable<number>) {
      const set = new Set(channels);
      store.set((prev) => ({ ...prev, selected: set.size ? { run, layer, channels: set } : null }));
    },
  };
}

export type ChannelActions = ReturnType<typeof channelActions>;

/** The tab's one channel store (the channel state is global, like the open card). */
export const channelStore: Store<ChannelFocus> = createStore<ChannelFocus>(EMPTY);

/** Current channel state plus actions; re-renders on change. */
export function useChannelFocus(store: Store<ChannelFocus> = channelStore): [ChannelFocus, ChannelActions] {
  const focus = useSyncExternalStore(store.subscribe, store.get, store.get);
  const actions = useMemo(() => channelActions(store), [store]);
  return [focus, actions];
}

/** The selected channels of (run, layer), or an empty set. */
export function selectedChannelsOf(focus: ChannelFocus, run: string, layer: string): ReadonlySet<number> {
  const sel = focus.selected;
  return sel && sel.run === run && sel.layer === layer ? sel.channels : NONE;
}

const NONE: ReadonlySet<number> = new Set<number>();
