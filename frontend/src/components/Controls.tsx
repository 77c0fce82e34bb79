/**
 * Small accessible form controls: labelled select, segmented toggle and the
 * run / step pickers. Every control is a native element (keyboard focus for
 * free) with a `title` tooltip.
 */
import { useId } from "react";
import type { ReactNode } from "react";
import type { RunInfo } from "../types";

/** A labelled native `<select>`. */
export function LabeledSelect<T extends string | number>({
  label,
  value,
  options,
  onChange,
  title,
  testId,
  disabled,
}: {
  label: string;
  value: T;
  options: Array<{ value: T; label: string }>;
  onChange: (value: T) => void;
  title?: string;
  testId?: string;
  disabled?: boolean;
}) {
  const id = useId();
  return (
    <span className="ce-field" title={title}>
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        value={String(value)}
        disabled={disabled}
        data-testid={testId}
        onChange={(e) => {
          const opt = options.find((o) => String(o.value) === e.target.value);
          if (opt) onChange(opt.value);
        }}
      >
        {options.map((o) => (
          <option key={String(o.value)} value={String(o.value)}>
            {o.label}
          </option>
        ))}
      </select>
    </span>
  );
}

/** A group of toggle buttons (`aria-pressed`). */
export function Segmented<T extends string>({
  label,
  value,
  options,
  onChange,
  testId,
}: {
  label: string;
  value: T;
  options: Array<{ value: T; label: ReactNode; title: string }>;
  onChange: (value: T) => void;
  testId?: string;
}) {
  return (
    <span className="ce-segmented" role="group" aria-label={label} data-testid={testId}>
      {options.map((o) => (
        <button
          key={o.value}
          type="button"
          className="ce-segmented__btn"
          aria-pressed={o.value === value}
          title={o.title}
          onClick={() => onChange(o.value)}
        >
          {o.label}
        </button>
      ))}
    </span>
  );
}

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

/** Step slider plus a select, both keyboard operable. */
export function StepPicker({
  steps,
  value,
  onChange,
  testId,
  downsampled,
}: {
  steps: number[];
  value: number | null;
  onChange: (step: number) => void;
  testId?: string;
  downsampled?: boolean;
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
          : "Step (training step or epoch passed to log_layers)"
      }
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
