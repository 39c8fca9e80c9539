/** Notebook display helpers (tslab): images, live progress, plotly charts, stopping long loops. */
export { showPng, showGif, showHtml, showMarkdown, showBundle, inTslabKernel, escapeHtml, DisplaySlot, type MimeBundle } from "./display";
export { progressBar, ProgressBar, formatProgressText, formatProgressHtml, formatDuration, type ProgressOptions, type ProgressMetrics, type ProgressState } from "./progress";
export { plotLines, plotBars, showPlot, lineFigure, barFigure, plotHtml, plotSummary, type PlotlyFigure, type LineSeries, type BarSeries, type ChartOptions } from "./plot";
export { watchForStop, StopSignal } from "./stop";
export { isQuickMode, byMode } from "./quick";
