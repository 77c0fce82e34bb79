/**
 * The "suspect labels" section of the Dataset side bar: the ranked list of
 * inputs whose given label is probably wrong at one layer (default: the last
 * logged layer, where the evidence is strongest), linked to the selection.
 */
import { useCallback, useMemo, useState } from "react";
import * as api from "../api";
import { fnFor, useSide } from "../graph/context";
import { usePanelSelection } from "../state";
import { SuspectList } from "../panels/SuspectList";
import { AsyncView } from "./AsyncView";
import { useAsync } from "./useAsync";

/** Suspects fetched (and listed) per layer. */
const SUSPECT_LIMIT = 20;

export function SuspectSection({ width }: { width: number }) {
  const side = useSide();
  const names = useMemo(() => [...side.layers.keys()], [side.layers]);
  const [picked, setPicked] = useState<string | null>(null);
  const layer = picked && side.layers.has(picked) ? picked : (names[names.length - 1] ?? null);
  const sel = usePanelSelection("suspects");
  const state = useAsync(
    layer
      ? (signal) =>
          api.suspects(
            {
              run: side.run,
              step: side.step,
              layer,
              fn: fnFor(side.settings, "scatter"),
              stage: side.settings.stage,
              limit: SUSPECT_LIMIT,
            },
            signal,
          )
      : null,
    [side.run, side.step, layer, side.settings.fn, side.settings.stage],
  );
  const thumb = useCallback((i: number) => api.thumbnailUrl(side, i), [side]);
  if (!layer) return null;
  return (
    <section className="ce-side-section" aria-label="Suspect labels" data-testid="suspects">
      <header className="ce-side-title">
        <span>Suspect labels</span>
        <select aria-label="Layer of the suspect scores" value={layer} onChange={(e) => setPicked(e.target.value)}>
          {names.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </header>
      <AsyncView state={state} label="Scoring labels…" compact>
        {({ layers: [d] }) => (
          <SuspectList
            suspects={d?.suspects ?? []}
            classNames={side.classNames}
            limit={SUSPECT_LIMIT}
            threshold={d?.threshold}
            method={d ? `${d.k}-NN per class${d.method.includes("model") ? " + model confidence" : ""}` : null}
            thumbnailUrl={thumb}
            selected={sel.selected}
            onSelect={sel.onSelect}
            width={width}
          />
        )}
      </AsyncView>
    </section>
  );
}
