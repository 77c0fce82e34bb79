/** The toolbar's view settings: summary function, stage, projection, eta, channel order. */
import { LabeledSelect } from "./LabeledSelect";
import type { ViewSettings } from "../graph/context";
import type { DRMethod, HeatmapOrder, Stage, SummaryFn } from "../types";

export const FN_OPTIONS: Array<{ value: SummaryFn | "auto"; label: string }> = [
  { value: "auto", label: "paper default" },
  { value: "l2", label: "L2 norm" },
  { value: "otsu", label: "Otsu sum" },
  { value: "mean", label: "mean |x|" },
  { value: "max", label: "max |x|" },
];

export function SettingsBar({ settings, onChange }: { settings: ViewSettings; onChange: (s: ViewSettings) => void }) {
  const set = <K extends keyof ViewSettings>(k: K, v: ViewSettings[K]) => onChange({ ...settings, [k]: v });
  return (
    <div className="ce-settings" role="group" aria-label="View settings">
      <LabeledSelect
        label="Summary"
        value={settings.fn}
        options={FN_OPTIONS}
        onChange={(v) => set("fn", v)}
        title="Channel summary function. Paper default: L2 for the scatterplot, Otsu sum for Jaccard, heatmap, hierarchy"
        testId="fn-select"
      />
      <LabeledSelect<Stage>
        label="Stage"
        value={settings.stage}
        options={[
          { value: "pre", label: "pre-activation" },
          { value: "post", label: "post-activation" },
        ]}
        onChange={(v) => set("stage", v)}
        title="Summaries taken before or after the nonlinearity (post only when logged)"
      />
      <LabeledSelect<DRMethod>
        label="Projection"
        value={settings.method}
        options={[
          { value: "tsne", label: "t-SNE" },
          { value: "umap", label: "UMAP" },
          { value: "pca", label: "PCA" },
          { value: "mds", label: "MDS" },
        ]}
        onChange={(v) => set("method", v)}
        title="Dimensionality reduction of the scatterplot"
        testId="projection-select"
      />
      <LabeledSelect<number>
        label="η"
        value={settings.eta}
        options={[0.05, 0.1, 0.2, 0.3, 0.5].map((v) => ({ value: v, label: `${Math.round(v * 100)}%` }))}
        onChange={(v) => set("eta", v)}
        title="η: fraction of top channels per input used by Jaccard similarity and the hierarchy"
        testId="eta-select"
      />
      <LabeledSelect<HeatmapOrder>
        label="Channel order"
        value={settings.heatmapOrder}
        options={[
          { value: "pairwise", label: "class separation" },
          { value: "variance", label: "variance" },
          { value: "filter_norm", label: "filter norm" },
        ]}
        onChange={(v) => set("heatmapOrder", v)}
        title="Order of heatmap rows: pairwise class separation (Eq. 3), variance, or filter norm"
      />
    </div>
  );
}
