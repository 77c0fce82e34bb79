/** Which runs the timeline shows (never none). */
import type { RunInfo } from "../types";

export function RunChecklist({
  runs,
  selected,
  onChange,
}: {
  runs: RunInfo[];
  selected: string[];
  onChange: (runs: string[]) => void;
}) {
  return (
    <fieldset className="ce-timeline__runpick" data-testid="timeline-runs">
      <legend>Runs</legend>
      {runs.map((r) => (
        <label key={r.run} className="ce-check">
          <input
            type="checkbox"
            checked={selected.includes(r.run)}
            data-run={r.run}
            onChange={(e) => {
              const next = e.target.checked ? [...selected, r.run] : selected.filter((x) => x !== r.run);
              // Keep the runs' listing order, and never an empty choice.
              if (next.length) onChange(runs.map((x) => x.run).filter((x) => next.includes(x)));
            }}
          />
          {r.run}
        </label>
      ))}
    </fieldset>
  );
}
