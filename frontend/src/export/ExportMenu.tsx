/**
 * The export menu in a panel's title bar: the panel's data (JSON, CSV) and
 * picture (PNG, and SVG when the panel draws vectors).
 */
import { useRef, useState } from "react";
import type { PanelKind } from "../graph/panelKinds";
import { useSide } from "../graph/context";
import { flatten, toCsv } from "./csv";
import { saveBlob } from "./download";
import { isVector, mainPicture, panelPng, serializeSvg } from "./picture";
import { panelFileName, panelResponse } from "./panelData";

type Format = "json" | "csv" | "png" | "svg";

export function ExportMenu({ kind, layer, label }: { kind: PanelKind; layer: string; label: string }) {
  const side = useSide();
  const [open, setOpen] = useState(false);
  const [vector, setVector] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ref = useRef<HTMLSpanElement>(null);
  const panel = () => ref.current?.closest("section")?.querySelector<HTMLElement>(".ce-node__panel-body") ?? null;
  const name = (ext: string) => panelFileName(side.run, side.step, layer, kind, ext);

  const save = async (format: Format) => {
    setError(null);
    try {
      if (format === "json" || format === "csv") {
        const hit = panelResponse(kind, side.run, side.step, layer);
        if (!hit) throw new Error("No data yet: wait until the panel has loaded.");
        const text = format === "json" ? JSON.stringify(hit.body, null, 1) : toCsv(flatten(hit.route, hit.body));
        saveBlob(new Blob([text], { type: format === "json" ? "application/json" : "text/csv" }), name(format));
      } else {
        const root = panel();
        if (!root) throw new Error("The panel is not shown.");
        if (format === "png") saveBlob(await panelPng(root), name("png"));
        else
          saveBlob(
            new Blob([serializeSvg(mainPicture(root) as SVGSVGElement)], { type: "image/svg+xml" }),
            name("svg"),
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
          const root = panel();
          setVector(root ? isVector(root) : false);
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
