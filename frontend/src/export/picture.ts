/**
 * Pictures of a panel: its SVG with the computed styles inlined (colours are
 * CSS variables, which a standalone SVG file cannot resolve), and a PNG that
 * composes the panel's canvases, SVGs and images at their on-screen places.
 */

/** Presentation properties copied from the live SVG into the exported one. */
const SVG_STYLE_PROPS = [
  "fill",
  "fill-opacity",
  "stroke",
  "stroke-opacity",
  "stroke-width",
  "stroke-dasharray",
  "opacity",
  "font-family",
  "font-size",
  "font-weight",
  "text-anchor",
  "dominant-baseline",
  "visibility",
  "display",
];

type Drawable = HTMLCanvasElement | SVGSVGElement | HTMLImageElement;

function area(el: Element): number {
  const r = el.getBoundingClientRect();
  return r.width * r.height;
}

/** The panel's largest visible canvas, SVG or image, or `null` when it has none. */
export function mainPicture(root: Element): Drawable | null {
  let best: Drawable | null = null;
  for (const el of root.querySelectorAll<Drawable>("canvas, svg, img")) {
    if (el instanceof SVGSVGElement && el.ownerSVGElement) continue;
    if (area(el) > (best ? area(best) : 0)) best = el;
  }
  return best;
}

/** Whether the panel's main picture is vector (an SVG), so an SVG export makes sense. */
export function isVector(root: Element): boolean {
  return mainPicture(root) instanceof SVGSVGElement;
}

/**
 * The element's size in CSS pixels before transforms: the graph canvas is
 * zoomed, and a picture should not shrink with the zoom.
 */
export function layoutSize(el: Element): { width: number; height: number } {
  const r = el.getBoundingClientRect();
  return { width: el.clientWidth || r.width, height: el.clientHeight || r.height };
}

/** `svg` as a standalone SVG document, computed styles inlined. */
export function serializeSvg(svg: SVGSVGElement): string {
  const clone = svg.cloneNode(true) as SVGSVGElement;
  const live = [svg, ...svg.querySelectorAll("*")];
  const copy = [clone, ...clone.querySelectorAll("*")];
  const view = svg.ownerDocument.defaultView;
  live.forEach((el, i) => {
    const cs = view?.getComputedStyle(el);
    if (!cs) return;
    const out = copy[i] as SVGElement;
    const decl = SVG_STYLE_PROPS.map((p) => `${p}:${cs.getPropertyValue(p)}`).join(";");
    out.setAttribute("style", `${decl};${out.getAttribute("style") ?? ""}`);
  });
  const { width, height } = layoutSize(svg);
  clone.setAttribute("xmlns", "http://www.w3.org/2000/svg");
  clone.setAttribute("width", String(Math.round(width)));
  clone.setAttribute("height", String(Math.round(height)));
  return new XMLSerializer().serializeToString(clone);
}

function loadImage(src: string, doc: Document): Promise<HTMLImageElement> {
  return new Promise((resolve, reject) => {
    const img = doc.createElement("img");
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error("picture: an SVG of the panel could not be rasterized"));
    img.src = src;
  });
}

/** Pixels per CSS pixel of an exported PNG (at least 2, so it stays sharp when zoomed). */
export const PNG_SCALE_MIN = 2;

/**
 * A PNG of `root`: its canvases, SVGs and loaded images drawn where they sit,
 * over the panel's background colour, at `max(PNG_SCALE_MIN, devicePixelRatio)`
 * pixels per CSS pixel of the unzoomed panel.
 */
export async function panelPng(root: HTMLElement): Promise<Blob> {
  const doc = root.ownerDocument;
  const view = doc.defaultView ?? window;
  const box = root.getBoundingClientRect();
  const size = layoutSize(root);
  if (box.width < 1 || box.height < 1 || size.width < 1) throw new Error("panelPng: the panel is not visible");
  // On-screen boxes are zoomed with the graph; divide it out.
  const zoom = box.width / size.width;
  const scale = Math.max(PNG_SCALE_MIN, view.devicePixelRatio || 1);
  const canvas = doc.createElement("canvas");
  canvas.width = Math.round(size.width * scale);
  canvas.height = Math.round(size.height * scale);
  const ctx = canvas.getContext("2d");
  if (!ctx) throw new Error("panelPng: no 2D canvas context");
  ctx.scale(scale, scale);
  ctx.fillStyle = view.getComputedStyle(root).backgroundColor || "#fff";
  if (ctx.fillStyle === "rgba(0, 0, 0, 0)" || ctx.fillStyle === "transparent") ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, size.width, size.height);
  for (const el of root.querySelectorAll<Drawable>("canvas, svg, img")) {
    if (el instanceof SVGSVGElement && el.ownerSVGElement) continue;
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) continue;
    const x = (r.left - box.left) / zoom;
    const y = (r.top - box.top) / zoom;
    const w = r.width / zoom;
    const h = r.height / zoom;
    if (el instanceof SVGSVGElement) {
      const url = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(serializeSvg(el))}`;
      ctx.drawImage(await loadImage(url, doc), x, y, w, h);
    } else if (el instanceof HTMLImageElement) {
      if (el.complete && el.naturalWidth) ctx.drawImage(el, x, y, w, h);
    } else {
      ctx.drawImage(el, x, y, w, h);
    }
  }
  return new Promise((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("panelPng: the canvas gave no PNG"))), "image/png"),
  );
}
