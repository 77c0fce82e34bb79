/** Run and step pickers of one side (A or B) of the tab. */
import { RunSelect } from "./RunSelect";
import { StepPicker } from "./StepPicker";
import type { RunInfo } from "../types";
import { SideChoice, openableSteps, resolveStep } from "../sideChoice";

export function SidePicker({
  runs,
  choice,
  onChange,
  prefix,
}: {
  runs: RunInfo[];
  choice: SideChoice;
  onChange: (c: SideChoice) => void;
  prefix: "a" | "b";
}) {
  const info = runs.find((r) => r.run === choice.run);
  return (
    <span className="ce-sidepicker" data-side={prefix}>
      <RunSelect
        runs={runs}
        value={choice.run}
        label={prefix === "a" ? "Run" : "Run B"}
        testId={`run-select-${prefix}`}
        onChange={(run) => onChange({ run, step: null })}
      />
      <StepPicker
        steps={openableSteps(info)}
        value={resolveStep(info, choice.step)}
        downsampled={info?.downsampled}
        logged={info?.steps.length}
        testId={`step-select-${prefix}`}
        onChange={(step) => onChange({ run: choice.run, step })}
      />
    </span>
  );
}
