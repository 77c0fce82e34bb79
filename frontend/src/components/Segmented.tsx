/** A segmented button group (one choice of a few). */
import type { ReactNode } from "react";

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
