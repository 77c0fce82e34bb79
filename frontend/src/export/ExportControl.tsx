/**
 * An export menu: a view's data (JSON, CSV) and picture (PNG, and SVG when
 * the view draws vectors). The view supplies where its data and picture are.
 */
import { useRef, useState } from "react";
import { flatten, toCsv } from "./csv";
import { saveBlob } from "./download";
import { isVector, mainPicture, panelPng, serializeSvg } from "./picture";

type Format = "json" | "csv" | "png" | "svg";

export interface ExportControlProps {
  /** What the menu exports, for its labels, e.g. `Scatter of conv3`. */
  label: string;
  /** File name for an extension, e.g. `run_step3_conv3_scatter.csv`. */
  fileName: (ext: string) => string;
  /** The route and response the view shows now, or `null` before it has loaded. */
  data: () => { route: string; body: unknown } | null;
  /** The element whose picture is saved, given the menu's own element. */
  picture: (menu: HTMLElement) => HTMLElement | null;
}

export function ExportControl({ label, fileName, data, picture }: ExportControlProps) {
  const [open, setOpen] = useState(false);
  const [vector, setVector] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ref = useRef<HTMLSpanElement>(null);
  const root = () => (ref.current ? picture(ref.current) : null);

  const save = async (format: Format) => {
    setError(null);
    try {
      if (format === "json" || format === "csv") {
        const hit = data();
        if (!hit) throw new Error("No data yet: wait until the view has loaded.");
        const text = format === "json" ? JSON.stringify(hit.body, null, 1) : toCsv(flatten(hit.route, hit.body));
        saveBlob(new Blob([text], { type: format === "json" ? "application/json" : "text/csv" }), fileName(format));
      } else {
        const el = root();
        if (!el) throw new Error("The view is not shown.");
        if (format === "png") saveBlob(await panelPng(el), fileName("png"));
        else
          saveBlob(
            new Blob([serializeSvg(mainPicture(el) as SVGSVGElement)], { type: "image/svg+xml" }),
            fileName("svg"),
          );
      }
      setOpen(false);
    } catch (err) {
      setError((err as Error).message);
    }
  };

  const item = (format: Format, text: string) => (
    <button type="button" role="menuitem" data-testid={`export-${format}`} onClick={() => void save(format)}>
      {text}
    </button>
  );
  return (
    <span className="ce-export" ref={ref}>
      <button
        type="button"
        className="ce-icon-btn"
        aria-haspopup="menu"
        aria-expanded={open}
        title={`Download the data or picture of ${label}`}
        aria-label={`Export ${label}`}
        data-testid="export-btn"
        onClick={() => {
          const el = root();
          setVector(el ? isVector(el) : false);
          setError(null);
          setOpen((o) => !o);
        }}
      >
        ⤓
      </button>
      {open && (
        <span className="ce-export__menu" role="menu" aria-label={`Export ${label}`} data-testid="export-menu">
          {item("json", "Data (JSON)")}
          {item("csv", "Data (CSV)")}
          {item("png", "Picture (PNG)")}
          {vector && item("svg", "Picture (SVG)")}
          {error && (
            <span className="ce-export__error" role="alert">
              {error}
            </span>
          )}
        </span>
      )}
    </span>
  );
}
