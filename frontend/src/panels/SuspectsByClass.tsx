/**
 * Suspect labels grouped by their given class (beside the confusion
 * hierarchy): for each class, its flagged inputs, most suspect first, with
 * the label they likely have.
 */
import { useMemo } from "react";
import type { ThumbnailUrl } from "../types";
import { classColor } from "../transforms/color";
import { suspectsByClass, type Suspect } from "../transforms/channels";

export interface SuspectsByClassProps {
  /** Flagged suspects (any order). */
  suspects: readonly Suspect[];
  classNames: readonly string[];
  /** Inputs shown per class (default 4). */
  perClass?: number;
  thumbnailUrl?: ThumbnailUrl;
  /** Click on a class's suspects (or one of them) selects them. */
  onSelect?: (indices: number[]) => void;
}

export function SuspectsByClass(props: SuspectsByClassProps) {
  const { suspects, classNames, thumbnailUrl, onSelect } = props;
  const perClass = props.perClass ?? 4;
  const groups = useMemo(() => [...suspectsByClass(suspects).entries()].sort((a, b) => a[0] - b[0]), [suspects]);
  const name = (c: number) => classNames[c] ?? `class ${c}`;
  if (!groups.length) {
    return (
      <p className="cep-muted" data-testid="suspects-by-class" data-classes={0}>
        No suspect labels at this layer.
      </p>
    );
  }
  return (
    <ul className="cep-panel cep-suspclass" data-testid="suspects-by-class" data-classes={groups.length}>
      {groups.map(([cls, list]) => (
        <li key={cls} data-class={cls} data-count={list.length}>
          <button
            type="button"
            className="cep-link"
            aria-label={`Select the ${list.length} suspect inputs labelled ${name(cls)}`}
            disabled={!onSelect}
            onClick={() => onSelect?.(list.map((s) => s.index))}
          >
            <span className="cep-swatch" style={{ background: classColor(cls) }} aria-hidden="true" /> {name(cls)} ·{" "}
            {list.length}
          </button>
          {list.slice(0, perClass).map((s) => (
            <span
              key={s.index}
              className="cep-suspclass__item"
              data-index={s.index}
              title={`#${s.index}: likely ${name(s.likely)} (score ${s.score.toFixed(2)})`}
            >
              {thumbnailUrl ? (
                <img src={thumbnailUrl(s.index)} alt={`input ${s.index}`} width={20} height={20} loading="lazy" />
              ) : (
                `#${s.index}`
              )}
              <span className="cep-suspclass__likely">→ {name(s.likely)}</span>
            </span>
          ))}
          {list.length > perClass && <span className="cep-muted">+{list.length - perClass}</span>}
        </li>
      ))}
    </ul>
  );
}
