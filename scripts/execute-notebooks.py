"""Execute notebooks top to bottom through the real tslab kernel and check what they showed.

Run with the project's environment: .venv/bin/python scripts/execute-notebooks.py [options] NB...

For each notebook it starts the kernel named in --kernel (default tslab, the kernelspec
scripts/setup.sh writes into .venv) in the notebook's folder, runs every code cell in order, and
fails the notebook when
  - a cell's execute reply is not "ok" (tslab reports an error as stderr text with status
    "error" and an empty ename; a cell tagged "raises-exception" may fail on purpose),
  - a cell was aborted or never answered (tslab drops requests for 200 ms after an error),
  - a cell wrote to stderr (unhandled rejections land there with status "ok"), unless the text
    matches a regular expression in metadata.sprite_diffusion.allowed_stderr,
  - the number of image outputs (image/png or image/gif) differs from
    metadata.sprite_diffusion.expected_images, or the number of plotly charts from
    expected_plots (when given).
Quick mode is the caller's: set SPRITE_DIFFUSION_QUICK=1 in the environment (the kernel
inherits it) to shrink the lessons' work.

--rerun runs every code cell twice in a row, as a learner who re-runs cells does, and expects
twice the images and plots. A lesson's closing cell (`lesson.checkTensors()`) throws when the
tensor count is not back at its baseline, so a cell that leaks on a re-run fails the notebook.

--out DIR writes each executed notebook to DIR/<name>.ipynb. --report DIR writes, per notebook,
DIR/<name>/<name>.ipynb, DIR/<name>/<name>.html (nbconvert's lab template; images are inline,
plots carry plotly.js and formulas MathJax, so the page needs no network) and DIR/<name>/images/cell<NN>-<k>.png|gif,
plus DIR/summary.json. A JSON summary goes to stdout; progress lines go to stderr. Exit status 1
when any notebook failed.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import sys
import time
from copy import deepcopy
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The project's kernelspec first, ahead of any user-level "tslab" kernelspec.
os.environ["JUPYTER_PATH"] = os.pathsep.join(
    p for p in (str(ROOT / ".venv" / "share" / "jupyter"), os.environ.get("JUPYTER_PATH", "")) if p
)
os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")

import nbformat  # noqa: E402  (after the environment above)
from nbclient import NotebookClient  # noqa: E402
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError  # noqa: E402

IMAGE_TYPES = {"image/png": "png", "image/gif": "gif"}
PLOTLY_TYPE = "application/vnd.plotly.v1+json"


def log(message: str) -> None:
    print(f"[notebooks] {message}", file=sys.stderr, flush=True)


def first_lines(text: str, count: int = 12) -> str:
    lines = text.rstrip().splitlines()
    return "\n".join(lines[:count] + ([f"... ({len(lines) - count} more lines)"] if len(lines) > count else []))


class Run:
    """One notebook's execution: the client, its hooks' records, and the checks afterwards."""

    def __init__(self, path: Path, kernel: str, timeout: int, rerun: bool = False):
        self.path = path
        self.nb = nbformat.read(path, as_version=4)
        self.runs_per_cell = 2 if rerun else 1
        if rerun:
            self.nb.cells = [copy for cell in self.nb.cells for copy in ([cell, self._second_run(cell)] if cell.cell_type == "code" else [cell])]
        self.replies: dict[int, str] = {}
        self.cell_seconds: dict[int, float] = {}
        self.started = time.monotonic()
        self.kernel_ready_seconds: float | None = None
        self.client = NotebookClient(
            self.nb,
            kernel_name=kernel,
            timeout=timeout,
            startup_timeout=120,
            allow_errors=False,
            resources={"metadata": {"path": str(path.parent)}},
            on_notebook_start=self._kernel_ready,
            on_cell_execute=self._cell_sent,
            on_cell_executed=self._cell_done,
        )
        self._cell_started = 0.0

    @staticmethod
    def _second_run(cell):
        again = deepcopy(cell)
        if "id" in again:
            again["id"] = f"{cell['id']}-again"  # cell ids are unique within a notebook
        return again

    def _kernel_ready(self, notebook) -> None:
        self.kernel_ready_seconds = time.monotonic() - self.started

    def _cell_sent(self, cell, cell_index) -> None:
        self._cell_started = time.monotonic()

    def _cell_done(self, cell, cell_index, execute_reply) -> None:
        status = execute_reply["content"]["status"] if execute_reply else "no reply"
        self.replies[cell_index] = status
        self.cell_seconds[cell_index] = round(time.monotonic() - self._cell_started, 3)
        if status == "error" and "raises-exception" in cell.metadata.get("tags", []):
            time.sleep(0.3)  # tslab drops every request for 200 ms after an error

    def execute(self) -> dict:
        errors: list[str] = []
        try:
            self.client.execute(cwd=str(self.path.parent))
        except CellExecutionError as error:
            errors.append(self._describe_failed_cell())
            if not errors[-1]:
                errors[-1] = first_lines(str(error))
        except (CellTimeoutError, DeadKernelError) as error:
            errors.append(f"{type(error).__name__}: {first_lines(str(error), 4)}")
        execute_seconds = time.monotonic() - self.started - (self.kernel_ready_seconds or 0)
        if not errors:
            errors += self._check_cells() + self._check_counts()
        images, plots = self._count_outputs()
        return {
            "notebook": str(self.path.relative_to(ROOT) if self.path.is_relative_to(ROOT) else self.path),
            "ok": not errors,
            "errors": errors,
            "images": images,
            "plots": plots,
            "kernel_start_seconds": round(self.kernel_ready_seconds or 0, 2),
            "execute_seconds": round(execute_seconds, 2),
            "cell_seconds": {str(k): v for k, v in sorted(self.cell_seconds.items())},
            "quick_mode": os.environ.get("SPRITE_DIFFUSION_QUICK", ""),
        }

    def _code_cells(self):
        return [(i, c) for i, c in enumerate(self.nb.cells) if c.cell_type == "code" and c.source.strip()]

    @staticmethod
    def _stderr_of(cell) -> str:
        return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stderr")

    def _describe_failed_cell(self) -> str:
        for index, cell in self._code_cells():
            if self.replies.get(index) == "error":
                source = first_lines(cell.source, 6)
                return f"cell {index} failed:\n--- source ---\n{source}\n--- stderr ---\n{first_lines(self._stderr_of(cell))}"
        return ""

    def _check_cells(self) -> list[str]:
        allowed = [re.compile(p) for p in self.nb.metadata.get("sprite_diffusion", {}).get("allowed_stderr", [])]
        errors = []
        for index, cell in self._code_cells():
            tags = cell.metadata.get("tags", [])
            status = self.replies.get(index, "never executed")
            if status != "ok" and not (status == "error" and "raises-exception" in tags):
                errors.append(f"cell {index}: execute reply {status!r}")
            if any(o.get("output_type") == "error" for o in cell.get("outputs", [])) and "raises-exception" not in tags:
                errors.append(f"cell {index}: error output")
            stderr = self._stderr_of(cell)
            unexplained = [line for line in stderr.splitlines() if line.strip() and not any(p.search(line) for p in allowed)]
            if unexplained and "raises-exception" not in tags:
                errors.append(f"cell {index} wrote to stderr:\n{first_lines(chr(10).join(unexplained))}")
        return errors

    def _count_outputs(self) -> tuple[int, int]:
        outputs = [o for c in self.nb.cells for o in c.get("outputs", []) if "data" in o]
        images = sum(1 for o in outputs if any(t in o["data"] for t in IMAGE_TYPES))
        plots = sum(1 for o in outputs if PLOTLY_TYPE in o["data"])
        return images, plots

    def _check_counts(self) -> list[str]:
        declared = self.nb.metadata.get("sprite_diffusion", {})
        if "expected_images" not in declared:
            return ["metadata.sprite_diffusion.expected_images is missing: declare how many image outputs the notebook shows"]
        images, plots = self._count_outputs()
        runs = self.runs_per_cell
        times = "" if runs == 1 else f" x {runs} runs per cell"
        errors = []
        if images != declared["expected_images"] * runs:
            errors.append(f"{images} image outputs (image/png or image/gif), metadata expects {declared['expected_images']}{times}")
        if "expected_plots" in declared and plots != declared["expected_plots"] * runs:
            errors.append(f"{plots} plotly charts, metadata expects {declared['expected_plots']}{times}")
        return errors


MATHJAX_INLINE = ROOT / "node_modules" / "mathjax" / "es5" / "tex-svg-full.js"
MATHJAX_CONFIG = (
    "window.MathJax = { tex: { inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], processEscapes: true, "
    "processEnvironments: true, tags: 'ams' }, svg: { fontCache: 'global' }, options: { enableMenu: false } };"
)


def offline_html(html: str) -> str:
    """Makes nbconvert's page need no network: drops the require.js tag (no output here uses it)
    and swaps the MathJax 2 CDN block for MathJax 3 inlined from node_modules (SVG output, fonts
    included), so the lessons' formulas typeset offline."""
    html = re.sub(r'<script src="https://cdnjs\.cloudflare\.com/ajax/libs/require\.js/[^"]*"></script>\n?', "", html)
    block = re.compile(r"<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->", re.S)
    if not MATHJAX_INLINE.is_file():
        log(f"{MATHJAX_INLINE.relative_to(ROOT)} missing: formulas in the HTML pages load MathJax from the internet")
        return html
    mathjax = MATHJAX_INLINE.read_text(encoding="utf-8").replace("</script", "<\\/script")
    inline = f"<script>{MATHJAX_CONFIG}</script>\n<script>{mathjax}</script>"
    return block.sub(lambda _: inline, html, count=1)


def write_report(run: Run, report_dir: Path) -> None:
    from nbconvert import HTMLExporter

    name = run.path.stem
    folder = report_dir / name
    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    for old in images.iterdir():
        old.unlink()
    nbformat.write(run.nb, folder / f"{name}.ipynb")
    html, _ = HTMLExporter(template_name="lab", embed_images=True).from_notebook_node(run.nb)
    (folder / f"{name}.html").write_text(offline_html(html), encoding="utf-8")
    for index, cell in enumerate(run.nb.cells):
        outputs = [o for o in cell.get("outputs", []) if "data" in o]
        for k, output in enumerate(o for o in outputs if any(t in o["data"] for t in IMAGE_TYPES)):
            mime = next(t for t in IMAGE_TYPES if t in output["data"])
            (images / f"cell{index:02d}-{k}.{IMAGE_TYPES[mime]}").write_bytes(base64.b64decode(output["data"][mime]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--kernel", default="tslab")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell (default 1800)")
    parser.add_argument("--out", type=Path, help="write executed notebooks here")
    parser.add_argument("--report", type=Path, help="write executed notebook, HTML and images per notebook here")
    parser.add_argument("--rerun", action="store_true", help="run every code cell twice in a row")
    args = parser.parse_args()

    results = []
    for path in args.notebooks:
        path = path.resolve()
        if not path.is_file():
            results.append({"notebook": str(path), "ok": False, "errors": [f"no such notebook: {path}"]})
            continue
        log(f"executing {path.name} (quick mode: {os.environ.get('SPRITE_DIFFUSION_QUICK') or 'off'})")
        run = Run(path, args.kernel, args.timeout, rerun=args.rerun)
        result = run.execute()
        if args.out:
            args.out.mkdir(parents=True, exist_ok=True)
            nbformat.write(run.nb, args.out / path.name)
        if args.report:
            write_report(run, args.report)
        verdict = "ok" if result["ok"] else "FAILED: " + "; ".join(result["errors"])
        log(f"{path.name}: kernel {result['kernel_start_seconds']} s, cells {result['execute_seconds']} s, "
            f"{result['images']} images, {result['plots']} plots: {verdict}")
        results.append(result)

    summary = {"ok": all(r["ok"] for r in results), "notebooks": results}
    if args.report:
        (args.report / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
