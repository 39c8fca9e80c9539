import { defineConfig } from "vitest/config";

// Native addons (tfjs-node, @napi-rs/canvas) are safest in child processes, one file at a time
// per worker; two workers match the machine's two cores.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
