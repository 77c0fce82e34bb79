/** Which (run, step) a side of the tab shows. */
import type { RunInfo } from "./types";

/** A (run, step) pair; `step` null follows the run's latest step. */
export interface SideChoice {
  run: string;
  step: number | null;
}

/**
 * The steps of a run that open in full. A writer with `full_every` keeps some
 * steps compact (timeline record only): their per-step views have no data, so
 * the pickers offer the full ones. Older servers send no `full_steps`: every step.
 */
export function openableSteps(info: RunInfo | undefined): number[] {
  if (!info) return [];
  const full = info.full_steps;
  if (full && full.length) return info.steps.filter((s) => full.includes(s));
  return info.steps;
}

/**
 * The step of `steps` (ascending) nearest to `step`, the earlier one on a tie;
 * null when `steps` is empty. A timeline click on a compact step opens this one.
 */
export function nearestStep(steps: number[], step: number): number | null {
  let best: number | null = null;
  for (const s of steps) if (best === null || Math.abs(s - step) < Math.abs(best - step)) best = s;
  return best;
}

/** The step of a run that opens in full nearest to `step` (itself when it is full). */
export function nearestOpenableStep(info: RunInfo | undefined, step: number): number | null {
  return nearestStep(openableSteps(info), step);
}

export function resolveStep(info: RunInfo | undefined, step: number | null): number | null {
  const steps = openableSteps(info);
  if (!steps.length) return null;
  if (step !== null && steps.includes(step)) return step;
  return steps[steps.length - 1];
}
