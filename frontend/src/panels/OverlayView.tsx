/**
 * One activation overlay image (paper Eq. 2) with alt text and a readable
 * message when the server answers 404 (no map logged for the layer/input).
 */
import { useEffect, useState } from "react";

export interface OverlayViewProps {
  /** URL of the overlay PNG (from `overlayUrl(index, channel)`). */
  src: string;
  /** Channel shown (for the alt text / caption). */
  channel: number;
  /** Input index shown. */
  index: number;
  /** Displayed size in CSS pixels (square). */
  size?: number;
  /** Caption under the image; defaults to "channel C · input #I". */
  caption?: string;
  /** data-testid of the <img> (default "overlay"). */
  testId?: string;
}

/** Message shown when the overlay cannot be loaded. */
export const OVERLAY_MISSING = "no activation map logged for this layer/input";

export function OverlayView(props: OverlayViewProps) {
  const { src, channel, index, size = 96, caption, testId = "overlay" } = props;
  const [failed, setFailed] = useState(false);
  // A new image gets a fresh chance to load.
  useEffect(() => setFailed(false), [src]);
  const label = caption ?? `channel ${channel} · input #${index}`;
  return (
    <figure className="cep-overlay" style={{ width: size }}>
      {failed ? (
        <div
          className="cep-overlay__missing"
          role="note"
          data-testid="overlay-missing"
          style={{ width: size, height: size }}
        >
          {OVERLAY_MISSING}
        </div>
      ) : (
        <img
          data-testid={testId}
          src={src}
          width={size}
          height={size}
          alt={`activation of channel ${channel} overlaid on input ${index}`}
          onError={() => setFailed(true)}
        />
      )}
      <figcaption>{label}</figcaption>
    </figure>
  );
}
