/**
 * Small pieces shared by the channel panels: a [0, 1] threshold slider and
 * the dashed rectangle of a brush drag.
 */
import type { Point } from "../transforms/hull";

/** A labelled slider over [0, 1] in steps of 0.05, with its value shown. */
export function ThresholdSlider(props: {
  label: string;
  /** Accessible name of the slider. */
  ariaLabel: string;
  /** Tooltip explaining what the threshold does. */
  title: string;
  value: number;
  onChange: (value: number) => void;
}) {
  return (
    <label title={props.title}>
      {props.label}
      <input
        type="range"
        min={0}
        max={1}
        step={0.05}
        value={props.value}
        aria-label={props.ariaLabel}
        onChange={(e) => props.onChange(Number(e.target.value))}
      />
      <span className="cep-num">{props.value.toFixed(2)}</span>
    </label>
  );
}

/** The rectangle spanned by a brush drag from `a` to `b` (any corner order). */
export function BrushRect({ a, b }: { a: Point; b: Point }) {
  return (
    <rect
      className="cep-brush"
      x={Math.min(a[0], b[0])}
      y={Math.min(a[1], b[1])}
      width={Math.abs(b[0] - a[0])}
      height={Math.abs(b[1] - a[1])}
      pointerEvents="none"
    />
  );
}
