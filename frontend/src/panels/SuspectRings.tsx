/**
 * Rings around the top suspect labels in an input scatterplot (dashed, apart
 * from the solid outlier rings), so mislabelled inputs can be found where
 * they sit among another class.
 */
import type { Point } from "../transforms/hull";

export interface SuspectRingsProps {
  /** Screen position of every input. */
  screen: readonly Point[];
  /** Input indices to ring, most suspect first. */
  indices: readonly number[];
  /** Ring radius in pixels. */
  r: number;
}

export function SuspectRings({ screen, indices, r }: SuspectRingsProps) {
  const shown = indices.filter((i) => screen[i] !== undefined);
  return (
    <g className="cep-suspect-rings" pointerEvents="none" data-suspects={shown.length}>
      {shown.map((i, rank) => (
        <circle key={i} data-suspect={i} data-rank={rank} cx={screen[i][0]} cy={screen[i][1]} r={r} />
      ))}
    </g>
  );
}
