/**
 * The note a similarity panel shows when its response covers a sample of the
 * step's inputs (`sampled` of `/jaccard`, `/hierarchy`, `/dataset`).
 */
import type { SampleInfo } from "../types";

const count = (n: number) => n.toLocaleString("en-US");

/** "Sampled 4,096 of 20,000 inputs (stratified by class, seed 0)". */
export function sampledText(s: SampleInfo, what = "inputs"): string {
  return `Sampled ${count(s.n_shown)} of ${count(s.n_total)} ${what} (${s.how})`;
}

export interface SampledNoteProps {
  sampled?: SampleInfo | null;
  /** What the sample is of, after the counts (default "inputs"). */
  what?: string;
  /** Appended after the counts, e.g. what the sample was used for. */
  detail?: string;
}

/** Nothing when not sampled; else the counts, with the per-class split in the tooltip. */
export function SampledNote({ sampled, what, detail }: SampledNoteProps) {
  if (!sampled) return null;
  const perClass = sampled.per_class.map((p) => `class ${p.class}: ${count(p.shown)} of ${count(p.total)}`).join("\n");
  return (
    <p className="cep-sampled cep-muted" data-testid="sampled-note" role="note" title={perClass}>
      {sampledText(sampled, what)}
      {detail ? ` · ${detail}` : ""}
    </p>
  );
}
