/** The chosen layer's trajectory and diff, side by side, under the single-run heatmap. */
import * as api from "../api";
import { ErrorBox } from "../components/ErrorBox";
import { Loading } from "../components/Loading";
import { useAsync } from "../components/useAsync";
import type { ViewSettings } from "../graph/context";
import { DiffHost } from "../graph/DiffHost";
import { TrajectoryHost } from "../graph/TrajectoryHost";

/** The layer's trajectory and diff, side by side, under the single-run heatmap. */
export function LayerDetails({
  run,
  layer,
  step,
  settings,
}: {
  run: string;
  layer: string;
  step: number;
  settings: ViewSettings;
}) {
  const manifest = useAsync((signal) => api.layers({ run, step }, signal), [run, step]);
  if (manifest.error) return <ErrorBox error={manifest.error} title={`Could not load ${run}`} />;
  if (!manifest.data) return <Loading label="Loading layer…" compact />;
  const common = { run, step, layer, settings, classNames: manifest.data.class_names };
  return (
    <div className="ce-timeline__details" data-testid="timeline-details" data-layer={layer}>
      <section className="ce-card" aria-label={`Trajectory of ${layer}`}>
        <h3 className="ce-card__title">
          Trajectory <span className="ce-muted">{layer}</span>
        </h3>
        <div style={{ height: 390 }}>
          <TrajectoryHost {...common} width={440} height={380} />
        </div>
      </section>
      <section className="ce-card" aria-label={`Diff of ${layer}`}>
        <h3 className="ce-card__title">
          Diff <span className="ce-muted">{layer}</span>
        </h3>
        <DiffHost {...common} width={440} height={300} />
      </section>
    </div>
  );
}
