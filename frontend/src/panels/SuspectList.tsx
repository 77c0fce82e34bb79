/**
 * Ranked list of suspect labels (inputs whose given label is probably
 * wrong): thumbnail, given label, the label the model's neighbourhood points
 * to, and the score. Pure rendering: the ranking comes from the route, and
 * `rankSuspects` only orders and cuts it.
 */
import { useMemo } from "react";
import type { ThumbnailUrl } from "../types";
import { classColor } from "../transforms/color";
import { rankSuspects, type Suspect } from "../transforms/channels";

export interface SuspectListProps {
  /** Suspects in any order. */
  suspects: readonly Suspect[];
  /** Class names, indexed by label. */
  classNames: readonly string[];
  /** Rows shown (default 20). */
  limit?: number;
  /** Score above which an input counts as suspect (shown as a note), if any. */
  threshold?: number | null;
  /** Name of the scoring method, shown under the title. */
  method?: string | null;
  thumbnailUrl?: ThumbnailUrl;
  /** Selected input indices (rows marked). */
  selected?: ReadonlySet<number>;
  /** Click on a row (or "select all") replaces the selection. */
  onSelect?: (indices: number[]) => void;
  width?: number;
}

const THUMB = 28;

function nameOf(names: readonly string[], cls: number): string {
  return names[cls] ?? `class ${cls}`;
}

export function SuspectList(props: SuspectListProps) {
  const { suspects, classNames, threshold, method, thumbnailUrl, selected, onSelect } = props;
  const limit = props.limit ?? 20;
  const ranked = useMemo(() => rankSuspects(suspects), [suspects]);
  const shown = ranked.slice(0, limit);
  const top = shown.length ? Math.max(...shown.map((s) => s.score)) : 0;
  const above =
    threshold === null || threshold === undefined ? null : ranked.filter((s) => s.score >= threshold).length;
  return (
    <div
      className="cep-panel cep-suspects"
      style={{ width: props.width }}
      data-testid="suspect-list"
      data-count={shown.length}
    >
      <div className="cep-controls">
        <span className="cep-muted">
          {method ? `${method} · ` : ""}
          {above === null ? `${ranked.length} scored` : `${above} above ${threshold?.toFixed(2)}`}
        </span>
        {onSelect && (
          <button
            type="button"
            aria-label="Select the listed suspect inputs"
            disabled={!shown.length}
            onClick={() => onSelect(shown.map((s) => s.index))}
          >
            select
          </button>
        )}
      </div>
      {shown.length === 0 ? (
        <p className="cep-muted" role="note">
          No suspect labels.
        </p>
      ) : (
        <ol className="cep-suspects__list">
          {shown.map((s, rank) => {
            const isSel = selected?.has(s.index) ?? false;
            const given = nameOf(classNames, s.given);
            const likely = nameOf(classNames, s.likely);
            return (
              <li
                key={s.index}
                data-index={s.index}
                data-rank={rank}
                className={isSel ? "cep-suspect is-selected" : "cep-suspect"}
              >
                <button
                  type="button"
                  className="cep-suspect__row"
                  aria-label={`Input ${s.index}: labelled ${given}, likely ${likely}, score ${s.score.toFixed(2)}`}
                  aria-pressed={isSel}
                  disabled={!onSelect}
                  onClick={() => onSelect?.([s.index])}
                >
                  <span className="cep-suspect__rank">{rank + 1}</span>
                  {thumbnailUrl && (
                    <img
                      src={thumbnailUrl(s.index)}
                      alt={`input ${s.index}`}
                      width={THUMB}
                      height={THUMB}
                      loading="lazy"
                    />
                  )}
                  <span className="cep-suspect__labels">
                    <span className="cep-suspect__given" title={`given label: ${given}`}>
                      <span className="cep-swatch" style={{ background: classColor(s.given) }} aria-hidden="true" />
                      {given}
                    </span>
                    {s.likely === s.given ? (
                      // The layer's nearest class is the given one: the score comes from the model's doubt.
                      <span className="cep-muted cep-suspect__likely" title="no other class is nearer in this layer">
                        {" "}
                        (no nearer class)
                      </span>
                    ) : (
                      <>
                        <span aria-hidden="true"> → </span>
                        <span className="cep-suspect__likely" title={`likely label: ${likely}`}>
                          <span
                            className="cep-swatch"
                            style={{ background: classColor(s.likely) }}
                            aria-hidden="true"
                          />
                          {likely}
                        </span>
                      </>
                    )}
                  </span>
                  <span className="cep-suspect__score" title={`score ${s.score}`}>
                    <span
                      className="cep-suspect__bar"
                      style={{ width: `${top > 0 ? Math.max(0, s.score / top) * 100 : 0}%` }}
                      aria-hidden="true"
                    />
                    <span className="cep-suspect__value">{s.score.toFixed(2)}</span>
                  </span>
                </button>
              </li>
            );
          })}
        </ol>
      )}
      {ranked.length > shown.length && <p className="cep-muted">+{ranked.length - shown.length} more</p>}
    </div>
  );
}
