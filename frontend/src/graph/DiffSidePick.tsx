/** Run and step picker of one side of the diff view. */
import { useId } from "react";
import type { RunInfo } from "../types";
import { DiffSide } from "./trendProps";
import { openableSteps } from "../sideChoice";

export function SidePick({
  label,
  side,
  runs,
  onChange,
  testId,
}: {
  label: string;
  side: DiffSide;
  runs: RunInfo[];
  onChange: (s: DiffSide) => void;
  testId: string;
}) {
  const id = useId();
  const info = runs.find((r) => r.run === side.run);
  // A compact step (full_every) has no per-step data to diff: only the steps kept in full.
  const steps = info ? openableSteps(info) : [side.step];
  return (
    <span className="ce-diff-pick" role="group" aria-labelledby={id}>
      <b id={id}>{label}</b>
      <select
        aria-label={`Run of ${label}`}
        value={side.run}
        data-testid={`${testId}-run`}
        onChange={(e) => {
          const r = runs.find((x) => x.run === e.target.value);
          if (r) {
            const full = openableSteps(r);
            onChange({ run: r.run, step: full.includes(side.step) ? side.step : (full[full.length - 1] ?? 0) });
          }
        }}
      >
        {runs.map((r) => (
          <option key={r.run} value={r.run}>
            {r.run}
          </option>
        ))}
      </select>
      <select
        aria-label={`Step of ${label}`}
        value={String(side.step)}
        data-testid={`${testId}-step`}
        onChange={(e) => onChange({ run: side.run, step: Number(e.target.value) })}
      >
        {steps.map((s) => (
          <option key={s} value={String(s)}>
            step {s}
          </option>
        ))}
      </select>
    </span>
  );
}
