"""Presses the notebook's stop button (a kernel interrupt) during awaited loops in the real tslab
kernel and reports, as JSON on stdout, what each loop did afterwards. Driven by stop.test.ts.

Cells, in one kernel:
  watched loop    polls watchForStop() between steps; interrupted once it runs, twice
  unwatched loop  polls nothing; interrupted once it runs (tslab keeps it running: the reason
                  StopSignal exists)
After each interrupt it waits past tslab's 200 ms request-dropping window, then reads the loops'
counters twice, 300 ms apart, from a new cell.
"""

import json
import os
import sys
import time
from pathlib import Path
from queue import Empty

ROOT = Path(__file__).resolve().parent.parent.parent
os.environ["JUPYTER_PATH"] = os.pathsep.join(
    p for p in (str(ROOT / ".venv" / "share" / "jupyter"), os.environ.get("JUPYTER_PATH", "")) if p
)
os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")

from jupyter_client.manager import start_new_kernel  # noqa: E402


LOOPING = "looping"  # what a loop cell prints once it runs: the moment to press stop


def run(km, kc, code: str, interrupt: bool = False, timeout: float = 60) -> dict:
    """Executes code and returns its reply status and streams. With `interrupt`, interrupts the
    kernel (as JupyterLab's stop button does) once the cell has printed LOOPING, plus 0.3 s."""
    msg_id = kc.execute(code)
    deadline = time.monotonic() + timeout
    streams = {"stdout": "", "stderr": ""}

    def next_iopub() -> dict | None:
        """This request's next iopub message, None when its idle status arrives."""
        while True:
            msg = kc.get_iopub_msg(timeout=max(1, deadline - time.monotonic()))
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                streams[msg["content"]["name"]] += msg["content"]["text"]
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return None
            return msg

    idle = False
    if interrupt:
        while LOOPING not in streams["stdout"] and not idle:
            idle = next_iopub() is None
        if idle:
            raise SystemExit(f"the cell ended before it printed {LOOPING!r}:\n{code}\n{streams}")
        time.sleep(0.3)
        km.interrupt_kernel()
    while True:
        try:
            reply = kc.get_shell_msg(timeout=max(1, deadline - time.monotonic()))
        except Empty:
            what = "after the interrupt (it never reached tslab?)" if interrupt else ""
            raise SystemExit(f"no reply from the kernel within {timeout} s {what} to:\n{code}") from None
        if reply["parent_header"].get("msg_id") == msg_id:
            break
    while not idle:
        idle = next_iopub() is None
    return {"status": reply["content"]["status"], **streams}


def main() -> None:
    work_dir = ROOT / ".tmp"
    work_dir.mkdir(exist_ok=True)
    km, kc = start_new_kernel(kernel_name="tslab", cwd=str(work_dir), startup_timeout=120)
    try:
        results = {}
        setup = run(km, kc, (
            'import { watchForStop } from "sprite-diffusion";\n'
            "const watched = { steps: 0, stopped: false, reason: null as string | null };\n"
            "const unwatched = { steps: 0, run: true };\n"
            "const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));\n"
            'console.log("ready");'
        ))
        results["setup"] = setup
        watched_loop = (
            "const stop = watchForStop();\n"
            "try {\n"
            f"  console.log('{LOOPING}');\n"
            "  while (!stop.requested) { watched.steps++; await sleep(10); }\n"
            "  watched.stopped = true;\n"
            "  watched.reason = stop.reason;\n"
            "} finally { stop.release(); }"
        )
        read_watched = (
            "const watchedBefore = watched.steps;\n"
            "await sleep(300);\n"
            "console.log(JSON.stringify({ ...watched, grewBy: watched.steps - watchedBefore }));"
        )
        results["watched_loop"] = run(km, kc, watched_loop, interrupt=True)
        time.sleep(0.5)
        results["watched_after"] = run(km, kc, read_watched)
        # The same again in the same kernel: the watch still works after a first interrupt.
        run(km, kc, 'Object.assign(watched, { steps: 0, stopped: false, reason: null });')
        results["watched_loop_again"] = run(km, kc, watched_loop, interrupt=True)
        time.sleep(0.5)
        results["watched_after_again"] = run(km, kc, read_watched)
        results["unwatched_loop"] = run(km, kc, (
            f"console.log('{LOOPING}');\n"
            "while (unwatched.run) { unwatched.steps++; await sleep(10); }"
        ), interrupt=True)
        time.sleep(0.5)
        results["unwatched_after"] = run(km, kc, (
            "const unwatchedBefore = unwatched.steps;\n"
            "await sleep(300);\n"
            "const unwatchedGrewBy = unwatched.steps - unwatchedBefore;\n"
            "unwatched.run = false;\n"
            "console.log(JSON.stringify({ grewBy: unwatchedGrewBy }));"
        ))
        # Counted after the cell's synchronous part, when vm has put the listeners back.
        results["sigint_listeners"] = run(km, kc, 'await sleep(0);\nconsole.log(process.listenerCount("SIGINT"));')
        print(json.dumps(results))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


if __name__ == "__main__":
    sys.exit(main())
