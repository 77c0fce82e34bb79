/**
 * Confusion hierarchy view (paper Sect. V-E): super classes (agglomerative
 * clustering of class similarity), classes and their sub classes (clusters
 * within a class) as a left-to-right tree. Hovering or focusing a node shows
 * its representative inputs; clicking selects all its inputs.
 */
import { useMemo, useState, type KeyboardEvent } from "react";
import { cluster, hierarchy, type HierarchyPointNode } from "d3";
import type { HierarchyNode, HierarchyResponse, ThumbnailUrl } from "../types";
import { classColor } from "../transforms/color";
import { collectInputs, countLeaves, nodeKind, nodeRepresentatives } from "../transforms/tree";
import { SampledNote } from "./SampledNote";

export interface HierarchyPanelProps {
  data: HierarchyResponse;
  /** Class names, indexed by label. */
  classNames: string[];
  thumbnailUrl?: ThumbnailUrl;
  /** Selected inputs: nodes containing any are emphasized. */
  selected?: Set<number>;
  /** Click / Enter on a node selects its inputs. */
  onSelect?: (indices: number[]) => void;
  width?: number;
  /** Minimum height; grows with the number of leaves (then scrolls). */
  height?: number;
}

const ROW_H = 14;
const MARGIN = { top: 14, bottom: 10, left: 12 };
/** Approximate width of one character of the 10px labels. */
const CHAR_W = 5.8;
const PREVIEW_MAX = 6;

interface Laid {
  key: number;
  node: HierarchyPointNode<HierarchyNode>;
  kind: ReturnType<typeof nodeKind>;
  color: string;
  inputs: number[];
}

/** Colour of a node: its class (or its parent class for sub classes), grey above. */
function nodeColor(n: HierarchyPointNode<HierarchyNode>): string {
  for (let p: HierarchyPointNode<HierarchyNode> | null = n; p; p = p.parent) {
    if (typeof p.data.class === "number" && p.data.class >= 0) return classColor(p.data.class);
  }
  return "var(--ce-tree-inner)";
}

export function HierarchyPanel(props: HierarchyPanelProps) {
  const { data, classNames, thumbnailUrl, selected, onSelect } = props;
  const width = props.width ?? 340;
  const leaves = useMemo(() => countLeaves(data.tree), [data.tree]);
  const height = Math.max(props.height ?? 260, leaves * ROW_H + MARGIN.top + MARGIN.bottom);
  const [focus, setFocus] = useState<number | null>(null);

  const label = (d: HierarchyNode) =>
    typeof d.class === "number" && classNames[d.class] !== undefined ? classNames[d.class] : d.name;
  const nodes = useMemo<Laid[]>(() => {
    const root = hierarchy<HierarchyNode>(data.tree, (d) => d.children);
    // Room at the right for the longest leaf label, at most 45% of the width.
    const longest = root.leaves().reduce((m, l) => Math.max(m, label(l.data).length), 0);
    const right = Math.min(width * 0.45, 12 + longest * CHAR_W);
    const laid = cluster<HierarchyNode>().size([
      height - MARGIN.top - MARGIN.bottom,
      Math.max(40, width - MARGIN.left - right),
    ])(root);
    return laid.descendants().map((node, key) => ({
      key,
      node,
      kind: nodeKind(node.data, node.depth),
      color: nodeColor(node),
      inputs: collectInputs(node.data),
    }));
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [data.tree, width, height, classNames]);
  const select = (n: Laid) => {
    if (!onSelect) return;
    onSelect(n.inputs.length > 0 ? n.inputs : nodeRepresentatives(n.node.data, 1000));
  };
  const onKey = (e: KeyboardEvent, n: Laid) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      select(n);
    }
  };
  const focused = focus === null ? null : nodes[focus];
  const reps = focused ? nodeRepresentatives(focused.node.data, PREVIEW_MAX) : [];
  // x/y swapped: the tree grows left to right.
  const px = (n: HierarchyPointNode<HierarchyNode>) => n.y + MARGIN.left;
  const py = (n: HierarchyPointNode<HierarchyNode>) => n.x + MARGIN.top;

  return (
    <div className="cep-panel cep-hierarchy" style={{ width }}>
      <SampledNote
        sampled={data.sampled}
        detail="class similarities estimated from the sample; the tree lists sampled inputs"
      />
      <div className="cep-hierarchy__scroll" style={{ maxHeight: props.height ?? 260 }}>
        <svg
          width={width}
          height={height}
          data-testid="hierarchy"
          data-nodes={nodes.length}
          role="tree"
          aria-label="Confusion hierarchy of classes"
        >
          <g fill="none" stroke="var(--ce-input-border)" strokeWidth={1}>
            {nodes
              .filter((n) => n.node.parent)
              .map((n) => {
                const p = n.node.parent!;
                const mx = (px(p) + px(n.node)) / 2;
                return (
                  <path
                    key={n.key}
                    d={`M${px(p)},${py(p)}C${mx},${py(p)} ${mx},${py(n.node)} ${px(n.node)},${py(n.node)}`}
                  />
                );
              })}
          </g>
          {nodes.map((n) => {
            const isSel = selected ? n.inputs.some((i) => selected.has(i)) : false;
            const leaf = !n.node.children;
            const size = n.kind === "sub" ? 3.5 : n.kind === "class" ? 5 : 4.5;
            return (
              <g
                key={n.key}
                transform={`translate(${px(n.node)},${py(n.node)})`}
                tabIndex={0}
                role="treeitem"
                aria-level={n.node.depth + 1}
                aria-label={`${n.kind} ${label(n.node.data)}, ${n.inputs.length} inputs`}
                data-kind={n.kind}
                className={`cep-tree-node${focus === n.key ? " cep-active" : ""}`}
                onMouseEnter={() => setFocus(n.key)}
                onMouseLeave={() => setFocus((f) => (f === n.key ? null : f))}
                onFocus={() => setFocus(n.key)}
                onBlur={() => setFocus((f) => (f === n.key ? null : f))}
                onClick={() => select(n)}
                onKeyDown={(e) => onKey(e, n)}
              >
                {n.kind === "super" || n.kind === "root" ? (
                  <rect
                    x={-size}
                    y={-size}
                    width={2 * size}
                    height={2 * size}
                    fill="var(--ce-panel)"
                    stroke={n.color}
                    strokeWidth={1.5}
                  />
                ) : (
                  <circle
                    r={size}
                    fill={n.kind === "class" ? n.color : "var(--ce-panel)"}
                    stroke={n.color}
                    strokeWidth={1.5}
                  />
                )}
                {isSel && <circle r={size + 3} fill="none" stroke="var(--ce-mark)" strokeWidth={1.5} />}
                <text
                  x={leaf ? size + 4 : n.kind === "root" ? -size : -size - 3}
                  y={leaf ? 3.5 : -size - 3}
                  textAnchor={leaf || n.kind === "root" ? "start" : "end"}
                  fontSize={10}
                >
                  {label(n.node.data)}
                </text>
                <title>{`${label(n.node.data)} (${n.inputs.length} inputs)`}</title>
              </g>
            );
          })}
        </svg>
      </div>
      <div className="cep-preview" data-testid="hierarchy-preview" aria-live="polite">
        {focused ? (
          <>
            <span className="cep-preview__title">
              {label(focused.node.data)}
              <span className="cep-muted"> · {focused.inputs.length} inputs</span>
            </span>
            {thumbnailUrl &&
              reps.map((i) => <img key={i} src={thumbnailUrl(i)} alt={`input ${i}`} width={36} height={36} />)}
            {reps.length === 0 && <span className="cep-muted">no representatives</span>}
          </>
        ) : (
          <span className="cep-muted">Hover a node to see representative inputs.</span>
        )}
      </div>
    </div>
  );
}
