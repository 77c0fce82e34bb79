/** The pure panels: data and callbacks come from props (no fetch). */
export { ScatterPanel, DR_METHODS, type ScatterPanelProps, type ScatterParams } from "./ScatterPanel";
export { JaccardPanel, ETA_MIN, ETA_MAX, type JaccardPanelProps, type JaccardParams } from "./JaccardPanel";
export { HeatmapPanel, HEATMAP_ORDERS, type HeatmapPanelProps, type HeatmapCell } from "./HeatmapPanel";
export { HierarchyPanel, type HierarchyPanelProps } from "./HierarchyPanel";
export { DatasetPanel, type DatasetPanelProps } from "./DatasetPanel";
export { OverlayView, OVERLAY_MISSING, type OverlayViewProps } from "./OverlayView";
export { TrajectoryPanel, type TrajectoryPanelProps, type TrajectoryParams } from "./TrajectoryPanel";
export { DiffPanel, type DiffPanelProps } from "./DiffPanel";
