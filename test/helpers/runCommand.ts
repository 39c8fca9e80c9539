/** Runs a project command as `npm run <command> -- args` does (tsx on src/cli/<command>.ts), with one TensorFlow thread. */
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";

const ROOT = resolve(__dirname, "..", "..");

export function runCommand(command: string, args: string[], timeoutMs = 90_000): { status: number | null; stderr: string } {
  const result = spawnSync(join(ROOT, "node_modules", ".bin", "tsx"), [join(ROOT, "src", "cli", `${command}.ts`), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    timeout: timeoutMs,
    env: { ...process.env, TF_NUM_INTRAOP_THREADS: "1", TF_NUM_INTEROP_THREADS: "1" },
  });
  return { status: result.status, stderr: result.stderr };
}
