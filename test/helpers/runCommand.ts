/**
 * Runs a project command as `npm run <command> -- args` does (tsx on src/cli/<command>.ts), with one
 * TensorFlow thread. Asynchronous on purpose: a spawnSync of a minute-long command blocks the test
 * worker's event loop, and vitest's 60 s timer on the worker's own messages then fires before their
 * replies are read ("Timeout calling onTaskUpdate", an unhandled error that fails the run).
 */
import { spawn } from "node:child_process";
import { join, resolve } from "node:path";

const ROOT = resolve(__dirname, "..", "..");

export function runCommand(command: string, args: string[], timeoutMs = 90_000): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(join(ROOT, "node_modules", ".bin", "tsx"), [join(ROOT, "src", "cli", `${command}.ts`), ...args], {
      cwd: ROOT,
      env: { ...process.env, TF_NUM_INTRAOP_THREADS: "1", TF_NUM_INTEROP_THREADS: "1" },
      stdio: ["ignore", "ignore", "pipe"],
      timeout: timeoutMs,
    });
    let stderr = "";
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (status) => resolvePromise({ status, stderr }));
  });
}
