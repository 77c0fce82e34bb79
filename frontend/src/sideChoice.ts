/** Which (run, step) a side of the tab shows. */
import type { RunInfo } from "./types";

/** A (run, step) pair; `step` null follows the run's latest step. */
export interface SideChoice {
  run: string;
  step: number | null;
}

export function resolveStep(info: RunInfo | undefined, step: number | null): number | null {
  if (!info || !info.steps.length) return null;
  if (step !== null && info.steps.includes(step)) return step;
  return info.steps[info.steps.length - 1];
}
