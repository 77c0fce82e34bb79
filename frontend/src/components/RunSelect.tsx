/** The run picker. */
import type { RunInfo } from "../types";
import { LabeledSelect } from "./LabeledSelect";

/** Run picker. */
export function RunSelect({
  runs,
  value,
  onChange,
  testId,
  label = "Run",
}: {
  runs: RunInfo[];
  value: string;
  onChange: (run: string) => void;
  testId?: string;
  label?: string;
}) {
  return (
    <LabeledSelect
      label={label}
      value={value}
      title="Run (a log directory with ChannelExplorer data)"
      testId={testId}
      options={runs.map((r) => ({ value: r.run, label: r.run }))}
      onChange={onChange}
    />
  );
}
