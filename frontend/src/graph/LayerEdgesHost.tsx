/**
 * Container of the edges panel of a layer node: bundled weights from the
 * channel clusters of a lower layer (default: the previous logged layer) to
 * this layer's clusters, from `/channel_edges`.
 */
import { useMemo, useState } from "react";
import * as api from "../api";
import { AsyncView } from "../components/AsyncView";
import { useAsync } from "../components/useAsync";
import { LayerEdgesPanel } from "../panels/LayerEdgesPanel";
import { useSide } from "./context";
import { useLayerQuery } from "./hostHooks";
import { PANEL_WIDTH } from "./panelKinds";

/** The route's default bundle-strength threshold. */
const DEFAULT_THRESHOLD = 0.5;

export function LayerEdgesHost({ layer, height }: { layer: string; height: number }) {
  const side = useSide();
  const q = useLayerQuery(layer, "heatmap");
  const names = useMemo(() => [...side.layers.keys()], [side.layers]);
  const below = names.slice(0, Math.max(0, names.indexOf(layer)));
  const [source, setSource] = useState<string | null>(below.length ? below[below.length - 1] : null);
  const [threshold, setThreshold] = useState(DEFAULT_THRESHOLD);
  const state = useAsync(
    source
      ? (signal) =>
          api.channelEdges(
            { run: q.run, step: q.step, source, target: layer, fn: q.fn, stage: q.stage, threshold },
            signal,
          )
      : null,
    [q.run, q.step, source, layer, q.fn, q.stage, threshold],
  );
  if (!source) {
    return (
      <p className="ce-hint" data-testid="edges-none">
        No logged layer comes before {layer}; edges need a lower layer.
      </p>
    );
  }
  return (
    <div className="ce-col" data-testid="layer-edges-host">
      <label className="ce-inline">
        from
        <select aria-label="Lower layer of the edges" value={source} onChange={(e) => setSource(e.target.value)}>
          {below.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </label>
      <AsyncView state={state} label="Bundling edges…" compact>
        {(data) => (
          <LayerEdgesPanel
            source={data.source_layer}
            target={data.target_layer}
            reason={data.available ? null : (data.reason ?? "no edges available")}
            sourceClusters={data.sources}
            targetClusters={data.targets}
            bundles={data.bundles}
            threshold={data.threshold}
            onThreshold={setThreshold}
            width={PANEL_WIDTH}
            height={height - 30}
          />
        )}
      </AsyncView>
    </div>
  );
}
