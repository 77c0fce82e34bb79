/** Pure data transforms of the panels (no DOM, no fetch); unit-tested with Vitest. */
export * from "./color";
export * from "./hull";
export * from "./groups";
export * from "./paging";
export * from "./heatmap";
export * from "./scatter";
export * from "./matrix";
export * from "./tree";
export * from "./dataset";
export * from "./timeline";
export * from "./trajectory";
export * from "./diverging";
export * from "./jaccard";
