/**
 * The tab's view in TensorBoard's URL hash, under `p.channelexplorer.*`.
 *
 * TensorBoard's hash is `#<plugin>&key=value&...` with URI-encoded keys and
 * values (its `tf_storage` format); plugins own the keys `p.<plugin>.*`, and
 * `experimental.GetURLPluginData` hands them back without the prefix. Only
 * what differs from the defaults is written, and unknown or malformed values
 * are dropped when read (a link is user input).
 */
import type { DRMethod, HeatmapOrder, Stage, SummaryFn } from "../types";

export const PLUGIN = "channelexplorer";

const PANELS = ["scatter", "jaccard", "heatmap", "hierarchy", "trajectory", "diff"] as const;
type Panel = (typeof PANELS)[number];
const METHODS: DRMethod[] = ["tsne", "umap", "pca", "mds"];
const ORDERS: HeatmapOrder[] = ["pairwise", "variance", "filter_norm"];
const FNS: Array<SummaryFn | "auto"> = ["auto", "l2", "otsu", "mean", "max"];
const STAGES: Stage[] = ["pre", "post"];

/** The part of the tab's state a link restores. */
export interface UrlState {
  run?: string;
  /** Absent: follow the newest step. */
  step?: number;
  compare?: boolean;
  runB?: string;
  stepB?: number;
  mode?: "graph" | "timeline";
  /** Open panels of side A's layer nodes, in opening order. */
  open?: Array<[string, Panel[]]>;
  method?: DRMethod;
  eta?: number;
  order?: HeatmapOrder;
  fn?: SummaryFn | "auto";
  stage?: Stage;
  /** Selected input indices, ascending. */
  selection?: number[];
  /** Runs of the timeline mode. */
  timeline?: string[];
}

const enc = (s: string) => encodeURIComponent(s);

/** `p.channelexplorer.*` entries (prefix removed) of the state; defaults are left out. */
export function encodeUrlState(s: UrlState): Record<string, string> {
  const d: Record<string, string> = {};
  if (s.run) d.run = s.run;
  if (s.step !== undefined) d.step = String(s.step);
  if (s.compare) d.compare = "1";
  if (s.compare && s.runB) d.runB = s.runB;
  if (s.compare && s.stepB !== undefined) d.stepB = String(s.stepB);
  if (s.mode && s.mode !== "graph") d.mode = s.mode;
  if (s.open?.length) d.open = s.open.map(([l, ps]) => `${enc(l)}:${ps.join("+")}`).join(",");
  if (s.method && s.method !== "tsne") d.projection = s.method;
  if (s.eta !== undefined && s.eta !== 0.2) d.eta = String(s.eta);
  if (s.order && s.order !== "pairwise") d.order = s.order;
  if (s.fn && s.fn !== "auto") d.fn = s.fn;
  if (s.stage && s.stage !== "pre") d.stage = s.stage;
  if (s.selection?.length) d.selection = compressIndices(s.selection);
  if (s.timeline?.length) d.timeline = s.timeline.map(enc).join(",");
  return d;
}

function int(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d{1,9}$/.test(v)) return undefined;
  return Number(v);
}

function oneOf<T extends string>(v: string | undefined, allowed: readonly T[]): T | undefined {
  return allowed.includes(v as T) ? (v as T) : undefined;
}

function dec(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}

/** The state in `p.channelexplorer.*` entries (prefix removed); what is malformed is left out. */
export function decodeUrlState(d: Record<string, string>): UrlState {
  const s: UrlState = {};
  if (d.run) s.run = d.run;
  s.step = int(d.step);
  if (d.compare === "1") s.compare = true;
  if (d.runB) s.runB = d.runB;
  s.stepB = int(d.stepB);
  s.mode = oneOf(d.mode, ["graph", "timeline"] as const);
  if (d.open) {
    const open: Array<[string, Panel[]]> = [];
    for (const part of d.open.split(",")) {
      const k = part.lastIndexOf(":");
      const layer = k > 0 ? dec(part.slice(0, k)) : null;
      const panels =
        k > 0
          ? part
              .slice(k + 1)
              .split("+")
              .filter((p): p is Panel => PANELS.includes(p as Panel))
          : [];
      if (layer && panels.length) open.push([layer, [...new Set(panels)]]);
    }
    if (open.length) s.open = open;
  }
  s.method = oneOf(d.projection, METHODS);
  const eta = d.eta !== undefined && /^\d*\.?\d+$/.test(d.eta) ? Number(d.eta) : NaN;
  if (eta > 0 && eta <= 1) s.eta = eta;
  s.order = oneOf(d.order, ORDERS);
  s.fn = oneOf(d.fn, FNS);
  s.stage = oneOf(d.stage, STAGES);
  if (d.selection) {
    const sel = expandIndices(d.selection);
    if (sel.length) s.selection = sel;
  }
  if (d.timeline) {
    const runs = d.timeline
      .split(",")
      .map(dec)
      .filter((r): r is string => !!r);
    if (runs.length) s.timeline = runs;
  }
  for (const k of Object.keys(s) as Array<keyof UrlState>) if (s[k] === undefined) delete s[k];
  return s;
}

/** Ascending indices as ranges: `[1,2,3,7]` -> `"1-3,7"`. */
export function compressIndices(indices: Iterable<number>): string {
  const xs = [...new Set(indices)].filter((i) => Number.isInteger(i) && i >= 0).sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < xs.length; ) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j] + 1) j++;
    parts.push(j > i ? `${xs[i]}-${xs[j]}` : String(xs[i]));
    i = j + 1;
  }
  return parts.join(",");
}

/** Inverse of `compressIndices`; malformed parts are skipped, at most `limit` indices. */
export function expandIndices(text: string, limit = 100000): number[] {
  const out = new Set<number>();
  for (const part of text.split(",")) {
    const m = /^(\d{1,9})(?:-(\d{1,9}))?$/.exec(part);
    if (!m) continue;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    for (let i = a; i <= b && out.size < limit; i++) out.add(i);
  }
  return [...out].sort((x, y) => x - y);
}

/** Splits `#head&k=v&...` into its head and decoded entries. */
export function parseHash(hash: string): { head: string; entries: Array<[string, string]> } {
  const parts = hash.replace(/^#/, "").split("&");
  const entries: Array<[string, string]> = [];
  let head = "";
  parts.forEach((p, i) => {
    const k = p.indexOf("=");
    if (k < 0) {
      if (i === 0) head = dec(p) ?? "";
      return;
    }
    const key = dec(p.slice(0, k));
    const value = dec(p.slice(k + 1));
    if (key !== null && value !== null) entries.push([key, value]);
  });
  return { head, entries };
}

/** The `p.<plugin>.*` entries of a hash, prefix removed. */
export function readPluginData(hash: string, plugin = PLUGIN): Record<string, string> {
  const prefix = `p.${plugin}.`;
  const out: Record<string, string> = {};
  for (const [k, v] of parseHash(hash).entries) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = v;
  return out;
}

/** `hash` with its `p.<plugin>.*` entries replaced by `data`; other entries are kept in place. */
export function writePluginData(hash: string, data: Record<string, string>, plugin = PLUGIN): string {
  const prefix = `p.${plugin}.`;
  const { head, entries } = parseHash(hash);
  const kept = entries.filter(([k]) => !k.startsWith(prefix));
  const ours = Object.entries(data).map(([k, v]) => [prefix + k, v] as [string, string]);
  const all = [...kept, ...ours].map(([k, v]) => `${enc(k)}=${enc(v)}`);
  return "#" + [enc(head || plugin), ...all].join("&");
}
