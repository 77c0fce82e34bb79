/**
 * The card of one channel (what Microscope/Lucent give every channel): the
 * inputs that activate it most, each with the channel's activation overlaid,
 * its per-class mean and class selectivity, its rank under every channel
 * ordering, its filter norm and gradient importance when logged, and its
 * value across steps. The channel is named by (run, layer, channel).
 */
import { useMemo } from "react";
import type { OverlayUrl, ThumbnailUrl } from "../types";
import { classColor } from "../transforms/color";
import { channelKey, classBars, rankRows, sparkline, type ChannelId } from "../transforms/channels";
import { fmt } from "./canvas";
import { OverlayView } from "./OverlayView";

export interface ChannelCardProps {
  id: ChannelId;
  /** Channels of the layer (for ranks). */
  totalChannels: number;
  /** Top activating inputs, strongest first. */
  topInputs: ReadonlyArray<{ index: number; value: number }>;
  /** Class of every input (by input index), for captions. */
  labels?: readonly number[] | null;
  classNames: readonly string[];
  /** Mean summary of the channel per class (null: class without inputs). */
  classMeans: ReadonlyArray<number | null>;
  /** Class-selectivity index in [0, 1], or null. */
  selectivity?: number | null;
  /** Ordering -> 0-based rank of the channel (null where unavailable). */
  ranks: Readonly<Record<string, number | null | undefined>>;
  /** Orderings to list, in this order (default: the keys of `ranks`). */
  orders?: readonly string[];
  filterNorm?: number | null;
  /** First-order Taylor importance |sum a * dL/da|, when logged. */
  taylor?: number | null;
  /** Gradient norm of the channel, when logged. */
  gradNorm?: number | null;
  /** The channel's value (e.g. mean summary) at each logged step. */
  history?: {
    steps: readonly number[];
    values: ReadonlyArray<number | null>;
    /** Drift from the previous step, `1 - r` of the profiles (ReVACNN's stability; null where undefined). */
    drift?: ReadonlyArray<number | null> | null;
  } | null;
  /** Step shown in the other views (marked on the sparkline). */
  step?: number | null;
  thumbnailUrl?: ThumbnailUrl;
  overlayUrl?: OverlayUrl;
  /** False when the layer logged no activation maps (no overlays requested). */
  hasMaps?: boolean;
  onClose?: () => void;
  width?: number;
}

const ORDER_LABELS: Record<string, string> = {
  pairwise: "class-pairwise (Eq. 3)",
  variance: "variance",
  filter_norm: "filter norm",
  taylor: "Taylor importance",
  cluster: "channel cluster",
};
const THUMB = 52;
const SPARK_W = 150;
const SPARK_H = 30;

function metric(v: number | null | undefined): string {
  return v === null || v === undefined ? "not logged" : fmt(v);
}

export function ChannelCard(props: ChannelCardProps) {
  const { id, totalChannels, topInputs, labels, classNames, classMeans, selectivity, ranks, orders } = props;
  const { thumbnailUrl, overlayUrl, hasMaps = true, history, step, onClose } = props;
  const bars = useMemo(() => classBars(classMeans, classNames), [classMeans, classNames]);
  const rows = useMemo(() => rankRows(ranks, totalChannels, orders), [ranks, totalChannels, orders]);
  const spark = useMemo(
    () => (history && history.steps.length ? sparkline(history.steps, history.values, SPARK_W, SPARK_H, 3) : null),
    [history],
  );
  const pref = bars.find((b) => b.preferred);
  const driftSpark = useMemo(
    () =>
      history?.drift && history.drift.some((v) => v !== null)
        ? sparkline(history.steps, history.drift, SPARK_W, SPARK_H, 3)
        : null,
    [history],
  );
  const here = spark && step !== null && step !== undefined ? spark.points.find((p) => p.step === step) : undefined;
  const key = channelKey(id);
  return (
    <section
      className="cep-panel cep-card"
      style={{ width: props.width }}
      data-testid="channel-card"
      data-channel-key={key}
      data-channel={id.channel}
      aria-label={`Channel ${id.channel} of ${id.layer}`}
    >
      <header className="cep-card__head">
        <span className="cep-card__title">
          channel {id.channel}
          <span className="cep-muted"> · {id.layer}</span>
        </span>
        <span className="cep-muted cep-card__run" title={`run ${id.run}`}>
          {id.run}
        </span>
        {onClose && (
          <button type="button" aria-label={`Close the card of channel ${id.channel}`} title="Close" onClick={onClose}>
            ×
          </button>
        )}
      </header>

      <h4>Top inputs</h4>
      {topInputs.length === 0 ? (
        <p className="cep-muted">No input activates this channel.</p>
      ) : (
        <ol className="cep-card__tops" data-testid="card-top-inputs" data-count={topInputs.length}>
          {topInputs.map(({ index, value }, r) => {
            const cls = labels && index < labels.length ? labels[index] : null;
            return (
              <li key={index} data-index={index} className="cep-card__top">
                <div className="cep-card__pair">
                  {thumbnailUrl && (
                    <img
                      data-testid="card-thumbnail"
                      src={thumbnailUrl(index)}
                      alt={`input ${index}`}
                      width={THUMB}
                      height={THUMB}
                      loading="lazy"
                    />
                  )}
                  {overlayUrl && hasMaps && (
                    <OverlayView
                      src={overlayUrl(index, id.channel)}
                      channel={id.channel}
                      index={index}
                      size={THUMB}
                      caption=""
                      testId="card-overlay"
                    />
                  )}
                </div>
                <span className="cep-card__caption" title={`summary ${value}`}>
                  {r + 1}. #{index}
                  {cls !== null && (
                    <>
                      {" "}
                      <span className="cep-swatch" style={{ background: classColor(cls) }} aria-hidden="true" />{" "}
                      {classNames[cls] ?? `class ${cls}`}
                    </>
                  )}{" "}
                  · {fmt(value)}
                </span>
              </li>
            );
          })}
        </ol>
      )}
      {overlayUrl && !hasMaps && <p className="cep-muted">No activation maps were logged for this layer.</p>}

      <h4>
        Per-class mean
        <span className="cep-muted" data-testid="card-selectivity">
          {" "}
          · selectivity {selectivity === null || selectivity === undefined ? "–" : selectivity.toFixed(2)}
          {pref ? ` (prefers ${pref.name})` : ""}
        </span>
      </h4>
      <ul className="cep-card__bars" data-testid="card-class-means">
        {bars.map((b) => (
          <li key={b.cls} data-class={b.cls} className={b.preferred ? "is-preferred" : undefined}>
            <span className="cep-card__barname" title={b.name}>
              {b.name}
            </span>
            <span className="cep-card__bartrack">
              <span style={{ width: `${b.fraction * 100}%`, background: classColor(b.cls) }} />
            </span>
            <span className="cep-card__barval">{b.mean === null ? "–" : fmt(b.mean)}</span>
          </li>
        ))}
      </ul>

      <h4>Rank under each ordering</h4>
      <table className="cep-card__ranks" data-testid="card-ranks">
        <tbody>
          {rows.map((r) => (
            <tr key={r.order} data-order={r.order}>
              <th scope="row">{ORDER_LABELS[r.order] ?? r.order}</th>
              <td className="cep-num">{r.rank === null ? "n/a" : `${r.rank + 1} / ${totalChannels}`}</td>
              <td className="cep-muted">{r.fraction === null ? "" : `top ${Math.ceil(r.fraction * 100)}%`}</td>
            </tr>
          ))}
        </tbody>
      </table>

      <dl className="cep-card__metrics" data-testid="card-metrics">
        <dt>filter norm</dt>
        <dd>{metric(props.filterNorm)}</dd>
        {(props.taylor !== undefined || props.gradNorm !== undefined) && (
          <>
            <dt title="first-order Taylor importance |Σ a·∂L/∂a|, mean over inputs">Taylor importance</dt>
            <dd data-testid="card-taylor">{metric(props.taylor)}</dd>
            <dt>gradient norm</dt>
            <dd data-testid="card-grad-norm">{metric(props.gradNorm)}</dd>
          </>
        )}
      </dl>

      {spark && (
        <figure className="cep-card__spark" data-testid="card-history" data-steps={history?.steps.length ?? 0}>
          <svg width={SPARK_W} height={SPARK_H} role="img" aria-label={`value of channel ${id.channel} across steps`}>
            <path d={spark.path} fill="none" stroke="currentColor" strokeWidth={1.2} />
            {here && <circle cx={here.x} cy={here.y} r={2.5} className="cep-card__now" />}
          </svg>
          <figcaption className="cep-muted">
            steps {history?.steps[0]}–{history?.steps[history.steps.length - 1]}
            {spark.extent ? ` · ${fmt(spark.extent[0])}–${fmt(spark.extent[1])}` : ""}
          </figcaption>
        </figure>
      )}
      {driftSpark && (
        <figure className="cep-card__spark" data-testid="card-drift" data-points={driftSpark.points.length}>
          <svg width={SPARK_W} height={SPARK_H} role="img" aria-label={`drift of channel ${id.channel} between steps`}>
            <path d={driftSpark.path} fill="none" stroke="currentColor" strokeWidth={1.2} />
            {driftSpark.points.map((p) => (
              <circle key={p.step} cx={p.x} cy={p.y} r={1.8} fill="currentColor" />
            ))}
          </svg>
          <figcaption
            className="cep-muted"
            title="1 − Pearson r of the channel's profile with the previous step: 0 = the same inputs in the same proportions, 1 = unrelated"
          >
            drift from the previous step
            {driftSpark.extent ? ` · ${fmt(driftSpark.extent[0])}–${fmt(driftSpark.extent[1])}` : ""}
          </figcaption>
        </figure>
      )}
    </section>
  );
}
