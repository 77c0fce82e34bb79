/**
 * Export menus of the tab's views: a layer node's panels (in their title bar),
 * the Dataset side bar and the Timeline mode.
 */
import type { PanelKind } from "../graph/panelKinds";
import { useSide } from "../graph/context";
import { ExportControl } from "./ExportControl";
import { safeFileName } from "./download";
import { panelFileName, panelResponse } from "./panelData";
import { lastResponse } from "./snapshot";

/** The export menu of the panel `kind` of a layer node. */
export function ExportMenu({ kind, layer, label }: { kind: PanelKind; layer: string; label: string }) {
  const side = useSide();
  return (
    <ExportControl
      label={label}
      fileName={(ext) => panelFileName(side.run, side.step, layer, kind, ext)}
      data={() => panelResponse(kind, side.run, side.step, layer)}
      picture={(menu) => menu.closest("section")?.querySelector<HTMLElement>(".ce-node__panel-body") ?? null}
    />
  );
}

/** The export menu of the Dataset side bar (its `/dataset` answer; the picture is the side bar section). */
export function DatasetExport() {
  const side = useSide();
  return (
    <ExportControl
      label="the Dataset view"
      fileName={(ext) => panelFileName(side.run, side.step, "", "dataset", ext)}
      data={() => {
        const hit = lastResponse("dataset", { run: side.run, step: side.step });
        return hit ? { route: "dataset", body: hit.body } : null;
      }}
      picture={(menu) => menu.closest("section")}
    />
  );
}

/** The export menu of the Timeline mode (its newest `/timeline` answer; the picture is the chart area). */
export function TimelineExport() {
  return (
    <ExportControl
      label="the timeline"
      fileName={(ext) => `${safeFileName("timeline")}.${ext}`}
      data={() => {
        const hit = lastResponse("timeline", {});
        return hit ? { route: "timeline", body: hit.body } : null;
      }}
      picture={(menu) => menu.closest<HTMLElement>(".ce-timeline")}
    />
  );
}
