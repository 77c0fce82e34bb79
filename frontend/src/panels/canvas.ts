/**
 * Canvas helpers shared by the matrix panels: the matrix is rasterized once
 * per data change into an offscreen canvas (one pixel per cell, via
 * putImageData) and then scaled onto the visible canvas with drawImage, so
 * redraws (cursor, resize) never touch individual cells.
 */
import { useEffect, useMemo } from "react";
import { useTheme } from "../host/theme";

/** Offscreen canvas holding `pixels` (RGBA, `w x h`); null outside a browser. */
export function useOffscreen(
  pixels: Uint8ClampedArray<ArrayBuffer> | null,
  w: number,
  h: number,
): HTMLCanvasElement | null {
  return useMemo(() => {
    if (!pixels || w <= 0 || h <= 0 || typeof document === "undefined") return null;
    const off = document.createElement("canvas");
    off.width = w;
    off.height = h;
    const ctx = off.getContext("2d");
    if (!ctx) return null;
    ctx.putImageData(new ImageData(pixels, w, h), 0, 0);
    return off;
  }, [pixels, w, h]);
}

/**
 * Draws on a canvas at device resolution after every change of `deps`.
 *
 * Args:
 *   canvas: the visible canvas (ref.current).
 *   cssW, cssH: its size in CSS pixels.
 *   draw: receives a context already scaled to CSS pixels.
 */
export function useCanvasDraw(
  canvas: HTMLCanvasElement | null,
  cssW: number,
  cssH: number,
  draw: (ctx: CanvasRenderingContext2D) => void,
  deps: unknown[],
): void {
  // Theme colours are read while drawing: a theme change redraws.
  const theme = useTheme();
  useEffect(() => {
    if (!canvas) return;
    const dpr = Math.max(1, Math.min(3, window.devicePixelRatio || 1));
    const bw = Math.max(1, Math.round(cssW * dpr));
    const bh = Math.max(1, Math.round(cssH * dpr));
    if (canvas.width !== bw) canvas.width = bw;
    if (canvas.height !== bh) canvas.height = bh;
    const ctx = canvas.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    ctx.imageSmoothingEnabled = false;
    draw(ctx);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [canvas, cssW, cssH, theme, ...deps]);
}

/** Offset of a mouse event inside an element, in CSS pixels. */
export function localXY(e: { clientX: number; clientY: number; currentTarget: Element }): [number, number] {
  const r = e.currentTarget.getBoundingClientRect();
  return [e.clientX - r.left, e.clientY - r.top];
}

/** Format a matrix value for labels. */
export function fmt(v: number): string {
  if (!Number.isFinite(v)) return "–";
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e4 || a < 1e-2)) return v.toExponential(1);
  return a >= 100 ? v.toFixed(0) : v.toFixed(2);
}

/**
 * The value of a theme colour variable (e.g. `--ce-panel`) where `el` sits, for
 * canvas drawing; `fallback` outside a browser or when the variable is unset.
 */
export function themeColor(el: Element | null, name: string, fallback = "#000"): string {
  if (!el || typeof getComputedStyle === "undefined") return fallback;
  return getComputedStyle(el).getPropertyValue(name).trim() || fallback;
}
