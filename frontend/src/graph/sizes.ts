/** Node box sizes, shared by the layout (estimates) and the node CSS (exact). */
import type { PanelKind } from "./panelKinds";
import { PANEL_HEIGHT, PANEL_WIDTH } from "./panelKinds";

export const LAYER_WIDTH = 268;
/** Head (name, type) plus two rows of panel toggles. */
export const LAYER_HEIGHT = 90;
/** Height of one row of panel toggles in a layer node. */
export const TOGGLE_ROW_HEIGHT = 25;
export const SMALL_WIDTH = 150;
export const SMALL_HEIGHT = 34;
export const GROUP_WIDTH = 210;
export const GROUP_HEIGHT = 58;
/** Title bar of a panel inside a node. */
export const PANEL_TITLE = 28;
/** Horizontal padding around a panel inside a node. */
export const PANEL_PAD = 10;

/** Gap between panel columns. */
export const PANEL_GAP = 12;

/** Panels of a node are laid out in up to this many columns. */
export function panelColumns(nOpen: number): number {
  return nOpen >= 2 ? 2 : 1;
}

/** Size of a logged layer node with these panels open (panels in a grid, row-major). */
export function layerNodeSize(open: readonly PanelKind[]): { width: number; height: number } {
  if (!open.length) return { width: LAYER_WIDTH, height: LAYER_HEIGHT };
  const cols = panelColumns(open.length);
  let h = LAYER_HEIGHT;
  for (let r = 0; r < open.length; r += cols) {
    const row = open.slice(r, r + cols);
    h += PANEL_TITLE + Math.max(...row.map((k) => PANEL_HEIGHT[k])) + 6;
  }
  return { width: cols * PANEL_WIDTH + (cols - 1) * PANEL_GAP + 2 * PANEL_PAD, height: h + 4 };
}
