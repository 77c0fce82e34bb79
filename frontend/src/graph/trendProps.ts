/** Props and hooks shared by the across-steps containers (trajectory, diff). */
import { useMemo } from "react";
import * as api from "../api";
import { useAsync } from "../components/useAsync";
import type { ViewSettings } from "./context";

/** What the across-steps hosts need to know about where they are shown. */
export interface TrendProps {
  run: string;
  /** The step the surrounding view shows (the trajectory starts there; diff B defaults to it). */
  step: number;
  layer: string;
  settings: ViewSettings;
  classNames: string[];
  width: number;
  /** Height of the trajectory panel, or side of the diff matrix. */
  height: number;
}

/**
 * Maps between the input indices of (run, step) — the shared selection — and
 * rows of a route answer listed by `sample_ids`.
 */
export function useIdMapping(run: string, step: number, sampleIds: ReadonlyArray<number | string> | undefined) {
  const inputs = useAsync((signal) => api.inputs({ run, step }, signal), [run, step]);
  return useMemo(() => {
    const ids = inputs.data?.sample_ids;
    const rowOfId = new Map<string, number>();
    (sampleIds ?? []).forEach((id, r) => rowOfId.set(String(id), r));
    const inputOfId = new Map<string, number>();
    (ids ?? []).forEach((id, i) => {
      if (!inputOfId.has(String(id))) inputOfId.set(String(id), i);
    });
    return {
      /** Input indices -> rows (inputs not matched are left out). */
      toRows(indices: Iterable<number>): Set<number> {
        const out = new Set<number>();
        if (!ids) return out;
        for (const i of indices) {
          const r = i >= 0 && i < ids.length ? rowOfId.get(String(ids[i])) : undefined;
          if (r !== undefined) out.add(r);
        }
        return out;
      },
      /** Rows -> input indices of the step. */
      toInputs(rows: Iterable<number>): number[] {
        const out: number[] = [];
        for (const r of rows) {
          const id = sampleIds?.[r];
          const i = id === undefined ? undefined : inputOfId.get(String(id));
          if (i !== undefined) out.push(i);
        }
        return out;
      },
    };
  }, [inputs.data, sampleIds]);
}

/** A (run, step) pair of the diff view. */
export interface DiffSide {
  run: string;
  step: number;
}

/** Default A and B: first step vs the shown step (the last one when the shown step is the first). */
export function defaultDiffSides(run: string, step: number, steps: readonly number[]): { a: DiffSide; b: DiffSide } {
  const first = steps.length ? steps[0] : step;
  const last = steps.length ? steps[steps.length - 1] : step;
  return { a: { run, step: first }, b: { run, step: step === first && last !== first ? last : step } };
}
