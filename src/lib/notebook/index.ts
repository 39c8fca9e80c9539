/** The lesson kit (tslab): set-up and tensor check, tables, watched runs, images, progress, plotly charts, stopping long loops. */
export { showPng, showGif, showHtml, showMarkdown, showBundle, inTslabKernel, escapeHtml, DisplaySlot, type MimeBundle } from "./display";
export { progressBar, ProgressBar, formatProgressText, formatProgressHtml, formatDuration, type ProgressOptions, type ProgressMetrics, type ProgressState } from "./progress";
export { plotLines, plotBars, plotLinesOverBars, showPlot, lineFigure, barFigure, linesOverBarsFigure, plotHtml, plotSummary, type PlotlyFigure, type LineSeries, type BarSeries, type ChartOptions, type OverlayLine, type OverlayOptions } from "./plot";
export { watchForStop, StopSignal } from "./stop";
export { isQuickMode, byMode } from "./quick";
export { Lesson, startLesson, type Disposable } from "./lesson";
export { htmlTable, showTable, textTable, type TableCell } from "./table";
export { editWithProgress, engineLabel, sampleArdmWithProgress, sampleWithProgress, type ArdmSampleRun, trainWithProgress, type EditRun, type SampleRun, type SampleRunOptions, type TrainingRun } from "./runs";
