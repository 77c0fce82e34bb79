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

export function resolveStep(info: RunInfo | undefined, step: number | null): number | null {
  const steps = openableSteps(info);
  if (!steps.length) return null;
  if (step !== null && steps.includes(step)) return step;
  return steps[steps.length - 1];
}
