/**
 * The open channel card, docked at the right edge of the tab: fetches
 * `/channel_card` for the channel named in the channel focus store (run,
 * layer, channel) at the side's step, and closes with its × button or Escape.
 */
import { useCallback, useEffect, useMemo } from "react";
import { createPortal } from "react-dom";
import * as api from "../api";
import { AsyncView } from "../components/AsyncView";
import { useAsync } from "../components/useAsync";
import { useChannelFocus } from "../channelFocus";
import { ChannelCard } from "../panels/ChannelCard";
import { HEATMAP_ORDERS } from "../panels/HeatmapPanel";
import { byClassId } from "../transforms/channels";
import { fnFor, useSide } from "./context";
import { useLabels } from "./hostHooks";

const CARD_WIDTH = 300;

function dockRoot(): HTMLElement {
  let el = document.getElementById("ce-card-dock");
  if (!el) {
    el = document.createElement("div");
    el.id = "ce-card-dock";
    document.body.appendChild(el);
  }
  return el;
}

/** Renders the open card of a channel of this side's run (nothing when none is open). */
export function ChannelCardDock() {
  const side = useSide();
  const [focus, actions] = useChannelFocus();
  const open = focus.open && focus.open.run === side.run ? focus.open : null;
  const fn = fnFor(side.settings, "heatmap");
  const stage = side.settings.stage;
  const state = useAsync(
    open
      ? (signal) =>
          api.channelCard(
            { run: open.run, step: side.step, layer: open.layer, channel: open.channel, fn, stage },
            signal,
          )
      : null,
    [open?.run, open?.layer, open?.channel, side.step, fn, stage],
  );
  const labels = useLabels();
  const close = useCallback(() => actions.closeCard(), [actions]);
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && close();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [open, close]);
  const rs = useMemo(() => ({ run: side.run, step: side.step }), [side.run, side.step]);
  const thumb = useCallback((i: number) => api.thumbnailUrl(rs, i), [rs]);
  const overlay = useCallback(
    (i: number, c: number) => api.overlayUrl({ ...rs, layer: open?.layer ?? "" }, i, c),
    [rs, open?.layer],
  );
  if (!open || typeof document === "undefined") return null;
  const nClasses = side.classNames.length;
  return createPortal(
    <aside className="ce-card-dock__item" aria-label="Channel card">
      <AsyncView state={state} label="Loading channel…" compact>
        {(d) => (
          <ChannelCard
            id={{ run: open.run, layer: open.layer, channel: d.channel }}
            totalChannels={d.channels}
            topInputs={d.top_inputs.map((index, r) => ({ index, value: d.top_values[r] }))}
            labels={labels}
            classNames={side.classNames}
            classMeans={byClassId(d.classes, d.class_means, nClasses)}
            selectivity={d.selectivity}
            ranks={d.ranks}
            orders={HEATMAP_ORDERS}
            filterNorm={d.metrics.filter_norm}
            taylor={d.metrics.taylor}
            gradNorm={d.metrics.grad_norm}
            history={d.history ? { steps: d.history.steps, values: d.history.mean, drift: d.history.drift } : null}
            step={d.step}
            thumbnailUrl={thumb}
            overlayUrl={overlay}
            hasMaps={d.has_maps}
            onClose={close}
            width={CARD_WIDTH}
          />
        )}
      </AsyncView>
      {state.error && (
        <button type="button" className="ce-btn ce-btn--small" onClick={close}>
          Close
        </button>
      )}
    </aside>,
    dockRoot(),
  );
}
