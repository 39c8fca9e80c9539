/**
 * Tables for notebooks: numbers already formatted by the caller, shown as HTML in JupyterLab and
 * as aligned text outside it (and in the text/plain part of the output).
 */
import { escapeHtml, showBundle } from "./display";

export type TableCell = string | number;

/** The table as HTML; cells are escaped, so "<" in a caption shows as text. */
export function htmlTable(head: readonly string[], rows: ReadonlyArray<readonly TableCell[]>): string {
  const cell = (tag: string, v: TableCell) => `<${tag} style="text-align:right;padding:2px 10px">${escapeHtml(String(v))}</${tag}>`;
  const line = (tag: string, values: readonly TableCell[]) => `<tr>${values.map((v) => cell(tag, v)).join("")}</tr>`;
  return `<table>${line("th", head)}${rows.map((r) => line("td", r)).join("")}</table>`;
}

/** The table as text, columns right-aligned to their widest cell. */
export function textTable(head: readonly string[], rows: ReadonlyArray<readonly TableCell[]>): string {
  const all = [head, ...rows].map((r) => r.map(String));
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  return all.map((r) => r.map((v, i) => v.padStart(widths[i])).join("  ")).join("\n");
}

/** Shows a table: `showTable(["t", "alphaBar_t"], [[1, "0.9998"], [500, "0.0063"]])`. */
export function showTable(head: readonly string[], rows: ReadonlyArray<readonly TableCell[]>): void {
  for (const [i, row] of rows.entries()) {
    if (row.length !== head.length) {
      throw new Error(`showTable: row ${i} has ${row.length} cells for ${head.length} columns; give one cell per column.`);
    }
  }
  showBundle({ "text/html": htmlTable(head, rows) }, textTable(head, rows));
}
