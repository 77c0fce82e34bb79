/**
 * Every stylesheet of the tab, in cascade order, as one string.
 *
 * Each component keeps its rules in a sheet beside it; they are imported with
 * `?inline` and injected as one `<style>` by `render()`, because the plugin
 * iframe's CSP allows inline styles but no stylesheet URL. The order is the
 * cascade: the theme variables, the shared panel and base rules, then the
 * components.
 */
import flowCss from "@xyflow/react/dist/style.css?inline";
import themeCss from "./theme.css?inline";
import panels_panelCss from "./panels/panel.css?inline";
import panels_ScatterPanelCss from "./panels/ScatterPanel.css?inline";
import panels_MatrixCanvasCss from "./panels/MatrixCanvas.css?inline";
import panels_HeatmapPanelCss from "./panels/HeatmapPanel.css?inline";
import panels_JaccardPanelCss from "./panels/JaccardPanel.css?inline";
import panels_OverlayViewCss from "./panels/OverlayView.css?inline";
import panels_HierarchyPanelCss from "./panels/HierarchyPanel.css?inline";
import panels_DatasetPanelCss from "./panels/DatasetPanel.css?inline";
import panels_TrajectoryPanelCss from "./panels/TrajectoryPanel.css?inline";
import panels_DiffPanelCss from "./panels/DiffPanel.css?inline";
import baseCss from "./base.css?inline";
import TabCss from "./Tab.css?inline";
import components_SettingsBarCss from "./components/SettingsBar.css?inline";
import components_SidePickerCss from "./components/SidePicker.css?inline";
import components_LabeledSelectCss from "./components/LabeledSelect.css?inline";
import components_StepPickerCss from "./components/StepPicker.css?inline";
import components_SegmentedCss from "./components/Segmented.css?inline";
import graph_SideCss from "./graph/Side.css?inline";
import graph_GraphViewCss from "./graph/GraphView.css?inline";
import components_SidebarCss from "./components/Sidebar.css?inline";
import components_LoadingCss from "./components/Loading.css?inline";
import components_ErrorBoxCss from "./components/ErrorBox.css?inline";
import components_EmptyStateCss from "./components/EmptyState.css?inline";
import components_AsyncViewCss from "./components/AsyncView.css?inline";
import graph_GraphCanvasCss from "./graph/GraphCanvas.css?inline";
import graph_nodesCss from "./graph/nodes.css?inline";
import components_SelectionSummaryCss from "./components/SelectionSummary.css?inline";
import timeline_DownsampleNoticeCss from "./timeline/DownsampleNotice.css?inline";
import timeline_FullStepsNoteCss from "./timeline/FullStepsNote.css?inline";
import timeline_TimelineViewCss from "./timeline/TimelineView.css?inline";
import timeline_RunChecklistCss from "./timeline/RunChecklist.css?inline";
import timeline_TimelineBodyCss from "./timeline/TimelineBody.css?inline";
import timeline_TimelineHeatmapCss from "./timeline/TimelineHeatmap.css?inline";
import timeline_ColorLegendCss from "./timeline/ColorLegend.css?inline";
import timeline_TimelineLinesCss from "./timeline/TimelineLines.css?inline";
import timeline_LayerDetailsCss from "./timeline/LayerDetails.css?inline";
import graph_DiffHostCss from "./graph/DiffHost.css?inline";
import graph_DiffSidePickCss from "./graph/DiffSidePick.css?inline";
import graph_ScatterHostCss from "./graph/ScatterHost.css?inline";
import panels_SuspectListCss from "./panels/SuspectList.css?inline";
import panels_ChannelClustersPanelCss from "./panels/ChannelClustersPanel.css?inline";
import panels_ChannelCardCss from "./panels/ChannelCard.css?inline";
import panels_ChannelEmbeddingPanelCss from "./panels/ChannelEmbeddingPanel.css?inline";
import panels_LayerEdgesPanelCss from "./panels/LayerEdgesPanel.css?inline";
import graph_ChannelCardDockCss from "./graph/ChannelCardDock.css?inline";
import export_ExportMenuCss from "./export/ExportMenu.css?inline";
import panels_RowMarksCss from "./panels/RowMarks.css?inline";

/** The CSS of React Flow and of every component, in cascade order. */
export const TAB_CSS = [
  flowCss,
  themeCss,
  panels_panelCss,
  panels_ScatterPanelCss,
  panels_MatrixCanvasCss,
  panels_HeatmapPanelCss,
  panels_JaccardPanelCss,
  panels_OverlayViewCss,
  panels_HierarchyPanelCss,
  panels_DatasetPanelCss,
  panels_TrajectoryPanelCss,
  panels_DiffPanelCss,
  baseCss,
  TabCss,
  components_SettingsBarCss,
  components_SidePickerCss,
  components_LabeledSelectCss,
  components_StepPickerCss,
  components_SegmentedCss,
  graph_SideCss,
  graph_GraphViewCss,
  components_SidebarCss,
  components_LoadingCss,
  components_ErrorBoxCss,
  components_EmptyStateCss,
  components_AsyncViewCss,
  graph_GraphCanvasCss,
  graph_nodesCss,
  components_SelectionSummaryCss,
  timeline_DownsampleNoticeCss,
  timeline_FullStepsNoteCss,
  timeline_TimelineViewCss,
  timeline_RunChecklistCss,
  timeline_TimelineBodyCss,
  timeline_TimelineHeatmapCss,
  timeline_ColorLegendCss,
  timeline_TimelineLinesCss,
  timeline_LayerDetailsCss,
  graph_DiffHostCss,
  graph_DiffSidePickCss,
  graph_ScatterHostCss,
  panels_SuspectListCss,
  panels_ChannelClustersPanelCss,
  panels_ChannelCardCss,
  panels_ChannelEmbeddingPanelCss,
  panels_LayerEdgesPanelCss,
  graph_ChannelCardDockCss,
  panels_RowMarksCss,
  export_ExportMenuCss,
].join("\n");
