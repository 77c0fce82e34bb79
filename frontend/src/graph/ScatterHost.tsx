/** Container of the scatterplot panel of a layer node, with its enlarged copy in the dock. */
import { useCallback, useState } from "react";
import { createPortal } from "react-dom";
import * as api from "../api";
import { AsyncView } from "../components/AsyncView";
import { usePanelSelection } from "../state";
import { ScatterPanel } from "../panels";
import type { ScatterParams } from "../panels";
import { useScatterPreview } from "../panels/useScatterPreview";
import { useSide } from "./context";
import { PANEL_WIDTH, PANEL_HEIGHT } from "./panelKinds";
import { useLayerQuery } from "./hostHooks";
import { useLayerSuspects } from "./useSuspects";

/** Flagged suspect labels ringed in the scatterplot, most suspect first. */
const SCATTER_RINGS = 10;

export function ScatterHost({ layer }: { layer: string }) {
  const side = useSide();
  const q = useLayerQuery(layer, "scatter");
  const sel = usePanelSelection(`scatter:${layer}`);
  const [params, setParams] = useState<ScatterParams>({ method: side.settings.method, seed: 0, k: null });
  // The toolbar's projection method applies to every open scatterplot.
  const [lastGlobal, setLastGlobal] = useState(side.settings.method);
  if (lastGlobal !== side.settings.method) {
    setLastGlobal(side.settings.method);
    setParams((p) => ({ ...p, method: side.settings.method }));
  }
  // The PCA layout is shown, marked as a preview, while a slower method computes.
  const state = useScatterPreview({ ...q, method: params.method, seed: params.seed, k: params.k });
  const preview = state.preview ? { method: params.method, progress: state.progress } : null;
  const thumb = useCallback((i: number) => api.thumbnailUrl(side, i), [side]);
  const [enlarged, setEnlarged] = useState(false);
  const suspects = useLayerSuspects(layer);
  // The in-node and the enlarged plot share everything but their size.
  const shared = {
    classNames: side.classNames,
    selected: sel.selected,
    onSelect: sel.onSelect,
    params,
    onParams: (change: Partial<ScatterParams>) => setParams((p) => ({ ...p, ...change })),
    thumbnailUrl: thumb,
    suspects: suspects.slice(0, SCATTER_RINGS).map((s) => s.index),
    preview,
  };
  return (
    <>
      <AsyncView state={state} label="Projecting…" compact>
        {(data) => (
          <ScatterPanel
            data={data}
            {...shared}
            onEnlarge={() => setEnlarged(true)}
            width={PANEL_WIDTH}
            height={PANEL_HEIGHT.scatter - 4}
          />
        )}
      </AsyncView>
      {enlarged &&
        state.data &&
        createPortal(
          <section
            className="ce-lineup__item"
            data-testid="scatter-enlarged"
            aria-label={`Enlarged scatterplot of ${layer}`}
          >
            <header>
              <span title={`${side.run} · step ${side.step ?? ""}`}>{layer}</span>
              <button
                type="button"
                aria-label={`Close the enlarged scatterplot of ${layer}`}
                title="Close"
                onClick={() => setEnlarged(false)}
              >
                ×
              </button>
            </header>
            <ScatterPanel data={state.data} {...shared} width={ENLARGED.width} height={ENLARGED.height} />
          </section>,
          lineupRoot(),
        )}
    </>
  );
}

/** Enlarged scatterplots line up side by side in a dock at the bottom of the tab. */
export const ENLARGED = { width: 520, height: 470 };

export function lineupRoot(): HTMLElement {
  let el = document.getElementById("ce-lineup");
  if (!el) {
    el = document.createElement("div");
    el.id = "ce-lineup";
    el.setAttribute("aria-label", "Enlarged scatterplots");
    document.body.appendChild(el);
  }
  return el;
}
