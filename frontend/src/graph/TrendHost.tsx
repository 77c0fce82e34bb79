/** Container of the across-steps panels (trajectory, diff) of a layer node. */
import { useSide } from "./context";
import { DiffHost } from "./DiffHost";
import { TrajectoryHost } from "./TrajectoryHost";
import { PANEL_WIDTH, PANEL_HEIGHT } from "./panelKinds";

export function TrendHost({ kind, layer }: { kind: "trajectory" | "diff"; layer: string }) {
  const side = useSide();
  const props = {
    run: side.run,
    step: side.step,
    layer,
    settings: side.settings,
    classNames: side.classNames,
    width: PANEL_WIDTH,
  };
  return kind === "trajectory" ? (
    <TrajectoryHost {...props} height={PANEL_HEIGHT.trajectory - 4} />
  ) : (
    <DiffHost {...props} height={210} />
  );
}
