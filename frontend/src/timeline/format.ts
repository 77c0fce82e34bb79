/** Names and number formatting shared by the timeline views. */

/** Opens `layer` of `run` at `step` in the graph mode. */
export type OpenLayer = (run: string, step: number, layer: string) => void;

export const SCORE_NAMES: Record<string, string> = {
  knn_loo: "kNN leave-one-out accuracy",
};

/** Human name of a score id (the id itself when unknown). */
export function scoreName(score: string): string {
  return SCORE_NAMES[score] ?? score;
}

export function fmt(v: number | null | undefined, digits = 2): string {
  return v === null || v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(digits);
}
