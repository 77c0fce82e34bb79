/**
 * Dataset view (paper Sect. V-A): classes with their activation similarity to
 * a reference class, class checkboxes that choose what the other views show,
 * the model's accuracy (overall and per class) and representative-input
 * selection (X-Means, or k-means with a given K).
 */
import { useEffect, useMemo, useState } from "react";
import type { DatasetResponse, ThumbnailUrl } from "../types";
import { classColor } from "../transforms/color";
import { parseK, perClassAccuracy } from "../transforms/dataset";
import { SampledNote } from "./SampledNote";

export interface DatasetPanelProps {
  data: DatasetResponse;
  /** True class of every input (from `/inputs`), for per-class accuracy. */
  labels?: number[] | null;
  /** Change the reference class (refetch `/dataset?reference=`). */
  onReference?: (cls: number) => void;
  /** Classes the other views use; all when undefined. */
  activeClasses?: Set<number>;
  /** New set of active classes (class checkboxes). */
  onClasses?: (classes: number[]) => void;
  /** Current K of the representative selection (null = X-Means). */
  k?: number | null;
  /** Change K (refetch `/dataset?k=`). */
  onK?: (k: number | null) => void;
  /** "select representatives": replaces the shared selection. */
  onSelect?: (indices: number[]) => void;
  thumbnailUrl?: ThumbnailUrl;
  width?: number;
}

const REP_THUMBS = 24;

function pct(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? "–" : `${(v * 100).toFixed(1)}%`;
}

export function DatasetPanel(props: DatasetPanelProps) {
  const { data, labels, onReference, activeClasses, onClasses, k, onK, onSelect, thumbnailUrl } = props;
  const width = props.width ?? 300;
  const classes = data.classes;
  const nClasses = classes.reduce((m, c) => Math.max(m, c.id + 1), 0);
  const perClass = useMemo(() => {
    if (!labels || !data.predictions || labels.length !== data.predictions.length) return null;
    try {
      return perClassAccuracy(labels, data.predictions, Math.max(nClasses, ...labels.map((l) => l + 1)));
    } catch {
      return null; // inconsistent labels: show the overall accuracy only
    }
  }, [labels, data.predictions, nClasses]);
  const maxSim = classes.reduce((m, c) => (Number.isFinite(c.similarity) ? Math.max(m, c.similarity) : m), 0) || 1;
  const isActive = (id: number) => !activeClasses || activeClasses.has(id);
  const nameOf = (id: number) => classes.find((c) => c.id === id)?.name ?? `class ${id}`;
  const toggle = (id: number, on: boolean) => {
    if (!onClasses) return;
    const cur = new Set(activeClasses ?? classes.map((c) => c.id));
    if (on) cur.add(id);
    else cur.delete(id);
    onClasses([...cur].sort((a, b) => a - b));
  };

  const [kText, setKText] = useState(k == null ? "" : String(k));
  useEffect(() => setKText(k == null ? "" : String(k)), [k]);
  const kValue = parseK(kText);
  const kInvalid = Number.isNaN(kValue);
  const commitK = () => {
    if (onK && !kInvalid && kValue !== (k ?? null)) onK(kValue);
  };

  return (
    <div className="cep-panel cep-dataset" style={{ width }} data-testid="dataset">
      <SampledNote sampled={data.sampled} detail="for the class similarities; representatives from every input" />
      <div className="cep-controls">
        <label>
          reference
          <select
            aria-label="Reference class for similarity"
            value={data.reference}
            disabled={!onReference}
            onChange={(e) => onReference?.(Number(e.target.value))}
          >
            {classes.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        {onClasses && (
          <span className="cep-quick">
            <button type="button" aria-label="Use all classes" onClick={() => onClasses(classes.map((c) => c.id))}>
              all
            </button>
            <button type="button" aria-label="Use no classes" onClick={() => onClasses([])}>
              none
            </button>
          </span>
        )}
      </div>
      <table className="cep-classes">
        <thead>
          <tr>
            <th scope="col">class</th>
            <th scope="col">n</th>
            <th scope="col" title={`activation similarity to ${nameOf(data.reference)}`}>
              similarity
            </th>
            {perClass && <th scope="col">acc.</th>}
          </tr>
        </thead>
        <tbody>
          {classes.map((c) => {
            const acc = perClass?.[c.id];
            return (
              <tr key={c.id} className={c.id === data.reference ? "cep-active" : undefined} data-class={c.id}>
                <td>
                  <label className="cep-class">
                    <input
                      type="checkbox"
                      aria-label={`Show class ${c.name}`}
                      checked={isActive(c.id)}
                      disabled={!onClasses}
                      onChange={(e) => toggle(c.id, e.target.checked)}
                    />
                    <span className="cep-swatch" style={{ background: classColor(c.id) }} aria-hidden="true" />
                    <span className="cep-class__name" title={c.name}>
                      {c.name}
                    </span>
                  </label>
                </td>
                <td className="cep-num">{c.count}</td>
                <td className="cep-simcell" title={Number.isFinite(c.similarity) ? c.similarity.toFixed(3) : "n/a"}>
                  <span
                    className="cep-simbar"
                    style={{
                      width: `${Math.max(0, (Number.isFinite(c.similarity) ? c.similarity : 0) / maxSim) * 100}%`,
                    }}
                    aria-hidden="true"
                  />
                  <span className="cep-simval">{Number.isFinite(c.similarity) ? c.similarity.toFixed(2) : "–"}</span>
                </td>
                {perClass && (
                  <td
                    className="cep-num"
                    title={
                      acc?.confusedWith
                        ? `most often predicted as ${nameOf(acc.confusedWith.cls)} (${acc.confusedWith.count})`
                        : undefined
                    }
                  >
                    {pct(acc?.accuracy)}
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
      <p className="cep-summary" data-testid="dataset-accuracy">
        {data.accuracy === null || data.accuracy === undefined
          ? "No predictions logged."
          : `Accuracy ${pct(data.accuracy)}`}
      </p>
      <div className="cep-controls cep-reps">
        <label className="cep-k">
          K
          <input
            type="text"
            inputMode="numeric"
            size={3}
            placeholder="auto"
            aria-label="Number of representatives K (empty for X-Means)"
            aria-invalid={kInvalid}
            value={kText}
            disabled={!onK}
            onChange={(e) => setKText(e.target.value)}
            onBlur={commitK}
            onKeyDown={(e) => e.key === "Enter" && commitK()}
          />
        </label>
        <button
          type="button"
          aria-label="Select representative inputs"
          disabled={!onSelect || data.representatives.length === 0}
          onClick={() => onSelect?.(data.representatives)}
        >
          select representatives
        </button>
        <span className="cep-muted">{data.representatives.length} found</span>
      </div>
      {thumbnailUrl && data.representatives.length > 0 && (
        <div className="cep-thumbstrip" aria-label="Representative inputs">
          {data.representatives.slice(0, REP_THUMBS).map((i) => (
            <img key={i} src={thumbnailUrl(i)} alt={`input ${i}`} width={28} height={28} />
          ))}
          {data.representatives.length > REP_THUMBS && (
            <span className="cep-muted">+{data.representatives.length - REP_THUMBS}</span>
          )}
        </div>
      )}
    </div>
  );
}
