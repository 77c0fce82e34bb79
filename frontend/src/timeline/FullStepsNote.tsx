/** Says which steps of a run are kept in full when the writer kept the others compact (`full_every`). */
import { stepList } from "../transforms/timeline";

/**
 * One line per run with compact steps.
 *
 * Args (props):
 *   run: the run's name (rendered as text).
 *   full: its steps kept in full, ascending.
 *   total: how many steps the timeline shows for it.
 */
export function FullStepsNote({ run, full, total }: { run: string; full: number[]; total: number }) {
  return (
    <p className="ce-steps-note" role="note" data-testid="full-steps-note" data-run={run} data-full={full.join(",")}>
      <b>{run}</b>: {full.length} of {total} steps kept in full ({stepList(full)}), marked under their step numbers. The
      other steps hold the timeline record only (scores, per-layer trends); clicking one opens the nearest step kept in
      full.
    </p>
  );
}
