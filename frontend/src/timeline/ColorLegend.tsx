/** Colour scale of the timeline heatmap. */
import { colormapLut, lutGradient } from "../transforms/color";
import { scoreName, fmt } from "./format";

export function ColorLegend({ domain, score }: { domain: [number, number]; score: string }) {
  const lut = colormapLut("viridis");
  return (
    <div
      className="ce-timeline__legend"
      aria-label={`Colour scale of ${scoreName(score)} from ${fmt(domain[0])} to ${fmt(domain[1])}`}
    >
      <span className="ce-muted">{scoreName(score)}</span>
      <span>{fmt(domain[0])}</span>
      <span className="ce-timeline__ramp" style={{ background: lutGradient(lut, 10) }} />
      <span>{fmt(domain[1])}</span>
      <span className="ce-timeline__missing" aria-hidden="true" />
      <span className="ce-muted">not logged</span>
    </div>
  );
}
