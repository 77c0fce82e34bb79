/** One side of the graph mode: loads the manifest of a (run, step) and provides the side context. */
import { useMemo } from "react";
import * as api from "../api";
import { DatasetSidebar } from "../components/Sidebar";
import { ErrorBox } from "../components/ErrorBox";
import { Loading } from "../components/Loading";
import { useAsync } from "../components/useAsync";
import { SideCtx } from "./context";
import type { FocusRequest, SideContext, ViewSettings } from "./context";
import { GraphView, settle } from "./GraphView";
import { ChannelCardDock } from "./ChannelCardDock";

/** Loads the manifest of a (run, step) and provides the side context. */
export function Side({
  side,
  run,
  step,
  settings,
  withSidebar,
  focus,
}: {
  side: "a" | "b";
  run: string;
  step: number;
  settings: ViewSettings;
  withSidebar: boolean;
  focus?: FocusRequest | null;
}) {
  // The manifest keeps the (run, step) it was fetched for: while another one
  // loads, the context stays that of the shown manifest, so no view asks the
  // new run for the old run's layers or inputs.
  const state = useAsync((signal) => {
    // The graph is requested beside the manifest, not after it: on a big
    // model the first paint then waits for one round trip less.
    const graph = settle(api.graph({ run, step }, signal));
    return api.layers({ run, step }, signal).then((manifest) => ({ run, step, manifest, graph }));
  }, [run, step]);
  const ctx = useMemo<SideContext | null>(() => {
    if (!state.data) return null;
    const { manifest } = state.data;
    return {
      side,
      run: state.data.run,
      step: state.data.step,
      settings,
      layers: new Map(manifest.layers.map((l) => [l.name, l])),
      classNames: manifest.class_names,
      nInputs: manifest.n_inputs,
    };
  }, [state.data, side, settings]);
  if (state.error) return <ErrorBox error={state.error} title={`Could not load ${run} at step ${step}`} />;
  if (!ctx) return <Loading label={`Loading ${run}…`} />;
  return (
    <SideCtx.Provider value={ctx}>
      {/* Keyed by run: no view keeps (and shows) another run's inputs or layers. */}
      <div key={ctx.run} className="ce-side" data-testid={`side-${side}`} data-run={ctx.run} data-step={ctx.step}>
        {state.loading && <div className="ce-progress" role="progressbar" aria-label="Loading" />}
        <GraphView focus={focus} graph={state.data?.graph} />
        {withSidebar && <DatasetSidebar />}
        {side === "a" && <ChannelCardDock />}
      </div>
    </SideCtx.Provider>
  );
}
