/** One side of the graph mode: loads the manifest of a (run, step) and provides the side context. */
import { useMemo } from "react";
import * as api from "../api";
import { DatasetSidebar } from "../components/Sidebar";
import { ErrorBox } from "../components/ErrorBox";
import { Loading } from "../components/Loading";
import { useAsync } from "../components/useAsync";
import { SideCtx } from "./context";
import type { FocusRequest, SideContext, ViewSettings } from "./context";
import { GraphView } from "./GraphView";
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
  const state = useAsync((signal) => api.layers({ run, step }, signal), [run, step]);
  const ctx = useMemo<SideContext | null>(() => {
    if (!state.data) return null;
    return {
      side,
      run,
      step,
      settings,
      layers: new Map(state.data.layers.map((l) => [l.name, l])),
      classNames: state.data.class_names,
      nInputs: state.data.n_inputs,
    };
  }, [state.data, side, run, step, settings]);
  if (state.error) return <ErrorBox error={state.error} title={`Could not load ${run} at step ${step}`} />;
  if (!ctx) return <Loading label={`Loading ${run}…`} />;
  return (
    <SideCtx.Provider value={ctx}>
      <div className="ce-side" data-testid={`side-${side}`} data-run={run} data-step={step}>
        {state.loading && <div className="ce-progress" role="progressbar" aria-label="Loading" />}
        <GraphView focus={focus} />
        {withSidebar && <DatasetSidebar />}
        {side === "a" && <ChannelCardDock />}
      </div>
    </SideCtx.Provider>
  );
}
