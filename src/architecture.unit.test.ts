import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The layers point one way (DESIGN.md section 2): `sms/` is a library and `web/` the shared web
 * kit; neither imports a feature. And a process that only dispatches SMS loads no HTTP route.
 */

const SRC = dirname(fileURLToPath(import.meta.url));
const FEATURES = [
  "accounts",
  "students",
  "jobs",
  "applications",
  "announcements",
  "dashboard",
  "audit",
  "seed",
  "cli",
  "sms-console",
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name) ? [path] : [];
  });
}

/** Every module specifier a file imports or re-exports, statically or with import(). */
function specifiers(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["']([^"']+)["']/gm;
  return [...text.matchAll(pattern)].map((m) => m[1]!);
}

/** The files under src/ that `file` imports (relative or #src/ specifiers). */
function localImports(file: string): string[] {
  return specifiers(file).flatMap((spec) => {
    const path = spec.startsWith("#src/")
      ? join(SRC, spec.slice(5))
      : spec.startsWith(".")
        ? resolve(dirname(file), spec)
        : null;
    return path && existsSync(path) ? [path] : [];
  });
}

function featureOf(path: string): string | null {
  const top = relative(SRC, path).split(/[\\/]/)[0] ?? "";
  return FEATURES.includes(top) ? top : null;
}

function transitiveImports(entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop()!;
    for (const next of localImports(file)) {
      if (!seen.has(next)) {
        seen.add(next);
        todo.push(next);
      }
    }
  }
  return seen;
}

/** A module that registers HTTP routes. */
const isRoutes = (path: string) =>
  /routes\.tsx?$|[\\/]app\.ts$|[\\/]main\.ts$|[\\/]web[\\/]server\.ts$/.test(path);

describe("architecture", () => {
  for (const folder of ["sms", "web"]) {
    it(`src/${folder} imports no feature folder`, () => {
      const offending = sourceFiles(join(SRC, folder)).flatMap((file) =>
        localImports(file)
          .filter((target) => featureOf(target) !== null)
          .map((target) => `${relative(SRC, file)} -> ${relative(SRC, target)}`),
      );
      expect(offending).toEqual([]);
    });
  }

  it("the feature check sees a feature import when there is one", () => {
    // Guards the regex: an import of a feature from a file in sms/ must be found.
    const file = join(SRC, "sms", "x.ts");
    expect(featureOf(resolve(dirname(file), "../jobs/service.ts"))).toBe("jobs");
    expect(
      specifiers(join(SRC, "app.ts")).filter((s) => s.startsWith("./jobs/")).length,
    ).toBeGreaterThan(0);
  });

  for (const entry of ["sms/dispatcher.ts", "app-context.ts"]) {
    it(`src/${entry} loads no routes module, directly or through others`, () => {
      const imported = [...transitiveImports(join(SRC, entry))].map((p) => relative(SRC, p));
      expect(imported.length).toBeGreaterThan(0);
      expect(imported.filter((p) => isRoutes(join(SRC, p)))).toEqual([]);
    });
  }
});
