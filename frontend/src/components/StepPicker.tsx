/** The step picker: a slider over the logged steps with the step number. */
import { useId } from "react";

/** Step slider plus a select, both keyboard operable. */
export function StepPicker({
  steps,
  value,
  onChange,
  testId,
  downsampled,
  logged,
}: {
  steps: number[];
  value: number | null;
  onChange: (step: number) => void;
  testId?: string;
  downsampled?: boolean;
  /** Steps the run logged, when more than `steps` (the others are compact: timeline only). */
  logged?: number;
}) {
  const id = useId();
  if (!steps.length) return <span className="ce-muted">no steps</span>;
  const idx = Math.max(0, value === null ? steps.length - 1 : steps.indexOf(value));
  return (
    <span
      className="ce-field ce-step"
      title={
        downsampled
          ? "Step. Some written steps were dropped by TensorBoard's sampling: start it with --samples_per_plugin channelexplorer=0"
          : logged && logged > steps.length
            ? `Step: the ${steps.length} steps kept in full of ${logged} logged (full_every); the Timeline scores every step`
            : "Step (training step or epoch passed to log_layers)"
      }
      data-logged={logged}
    >
      <label htmlFor={id}>Step</label>
      <input
        type="range"
        min={0}
        max={steps.length - 1}
        step={1}
        value={idx}
        disabled={steps.length < 2}
        aria-label="Step slider"
        aria-valuetext={String(steps[idx])}
        data-testid={testId ? `${testId}-slider` : undefined}
        onChange={(e) => onChange(steps[Number(e.target.value)])}
      />
      <select
        id={id}
        value={String(steps[idx])}
        data-testid={testId}
        onChange={(e) => onChange(Number(e.target.value))}
      >
        {steps.map((s) => (
          <option key={s} value={String(s)}>
            {s}
          </option>
        ))}
      </select>
      {downsampled && (
        <span className="ce-warn" aria-label="steps were downsampled">
          !
        </span>
      )}
    </span>
  );
}
