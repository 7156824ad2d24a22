// Builds the portal into one ESM bundle per entry (what `npm start` runs), with its assets beside
// it. `npm run build` writes dist/; the test suite builds its own copy once per run, so the
// processes its tests start run compiled code, as production does, without tsx's start-up.
import { cpSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Writes portal.js and dispatcher-thread-main.js (with source maps) and assets/ into `outdir`. */
export async function buildPortal(outdir = join(root, "dist")): Promise<string> {
  await build({
    absWorkingDir: root,
    entryPoints: ["src/cli/portal.ts", "src/dispatcher-thread-main.ts"],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    jsx: "automatic",
    jsxImportSource: "@kitajs/html",
    entryNames: "[name]",
    outdir,
    sourcemap: true,
    logLevel: "warning",
  });
  cpSync(join(root, "src/web/assets"), join(outdir, "assets"), { recursive: true });
  return join(outdir, "portal.js");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await buildPortal(process.argv[2]);
}
