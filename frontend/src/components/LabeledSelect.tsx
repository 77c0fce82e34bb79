/** A labelled select box. */
import { useId } from "react";

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
