/**
 * The notebook's stop button ends a loop: a kernel interrupt (SIGINT, as JupyterLab sends it)
 * during an awaited loop that polls watchForStop() stops the loop, twice in one kernel, while a
 * loop that polls nothing keeps running after tslab has reported the interrupt.
 */
import { execFile } from "child_process";
import * as path from "path";
import { expect, it } from "vitest";
import { ROOT, VENV_PYTHON, describeWithPrerequisites } from "./environment";

interface CellRun {
  status: string;
  stdout: string;
  stderr: string;
}

function interruptCheck(): Promise<Record<string, CellRun>> {
  return new Promise((resolve, reject) => {
    execFile(VENV_PYTHON, [path.join(__dirname, "interrupt-check.py")], { cwd: ROOT }, (error, stdout, stderr) => {
      if (error) reject(new Error(`interrupt-check.py failed: ${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as Record<string, CellRun>);
    });
  });
}

describeWithPrerequisites("stopping a loop from the notebook (kernel interrupt)", ["venv", "kernelspec", "library"], () => {
  it("stops a watched loop after its step; an unwatched loop runs on", async () => {
    const runs = await interruptCheck();
    expect(runs.setup).toMatchObject({ status: "ok", stderr: "" });
    for (const [loop, after] of [["watched_loop", "watched_after"], ["watched_loop_again", "watched_after_again"]]) {
      // tslab answers the interrupt itself: the cell ends with an error...
      expect(runs[loop].status).toBe("error");
      expect(runs[loop].stderr).toContain("Interrupted asynchronously");
      // ...and the loop saw the stop request, left, and no longer runs.
      const watched = JSON.parse(runs[after].stdout);
      expect(watched).toMatchObject({ stopped: true, reason: "interrupted (SIGINT)", grewBy: 0 });
      expect(watched.steps).toBeGreaterThan(0);
    }
    // Without a StopSignal the interrupted loop keeps counting in the background.
    expect(runs.unwatched_loop.status).toBe("error");
    expect(JSON.parse(runs.unwatched_after.stdout).grewBy).toBeGreaterThan(0);
    // One listener of ours next to tslab's, however many loops were watched.
    expect(runs.sigint_listeners.stdout.trim()).toBe("2");
  }, 5 * 60_000);
});
