import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, posix, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The layout shows the architecture (README, "Layout"), and these checks keep it so:
 *
 * - `db/`, `web/` (the web kit), `sms/` (the SMS library) and `placement/` (the placement words
 *   several features share) are layers under the features: they import no feature, and neither
 *   do the root modules every layer uses (`context.ts`, `config.ts`, `log.ts`).
 * - Every other folder under src/ is a feature, listed in FEATURES. Features may use each other,
 *   but never round a circle, directly or through others.
 * - A module that registers HTTP routes is named `routes.tsx` or `<area>-routes.ts(x)`, and only
 *   `src/app.ts`, which composes the app, imports one. The views one feature shows of another's
 *   are in that feature's `pages.tsx` or `<area>-pages.tsx`.
 * - A process that only dispatches SMS loads no HTTP route.
 *
 * Everything is read from the real imports (relative, `#src/`, `import()`) of every module under
 * src/ but the tests. Each check is run once more on a small made-up case that breaks it, to show
 * it would see a violation.
 */

const SRC = dirname(fileURLToPath(import.meta.url));

/** The folders under src/ below the features. */
const LAYERS = ["db", "web", "sms", "placement"];
/** Root modules that the layers use, so they import no feature either. */
const KERNEL = ["context.ts", "config.ts", "log.ts"];
/** Every other folder under src/. A new folder must be added here or to LAYERS. */
const FEATURES = [
  "accounts",
  "announcements",
  "applications",
  "audit",
  "cli",
  "dashboard",
  "jobs",
  "limits",
  "offers",
  "ops",
  "policies",
  "reports",
  "rounds",
  "seed",
  "sms-console",
  "students",
];

/** Module (path under src/, with "/") -> the modules under src/ it imports. */
type ImportMap = ReadonlyMap<string, readonly string[]>;

const toKey = (path: string) => relative(SRC, path).split(sep).join("/");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(name) && !/\.test\.tsx?$/.test(name) ? [path] : [];
  });
}

/** Every module specifier a text imports or re-exports, statically or with import(). */
function specifiersIn(text: string): string[] {
  const pattern = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)["']([^"']+)["']/gm;
  return [...text.matchAll(pattern)].map((m) => m[1]!);
}

/** The module under src/ a specifier written in `from` names; null for a package or outside. */
function resolveSpecifier(from: string, spec: string): string | null {
  const target = spec.startsWith("#src/")
    ? posix.normalize(spec.slice(5))
    : spec.startsWith(".")
      ? posix.join(posix.dirname(from), spec)
      : null;
  return target !== null && !target.startsWith("../") ? target : null;
}

const SOURCES: ReadonlyMap<string, string> = new Map(
  sourceFiles(SRC).map((file) => [toKey(file), readFileSync(file, "utf8")]),
);

const IMPORTS: ImportMap = new Map(
  [...SOURCES].map(([module, text]) => [
    module,
    specifiersIn(text).flatMap((spec) => {
      const target = resolveSpecifier(module, spec);
      return target !== null && existsSync(join(SRC, target)) ? [target] : [];
    }),
  ]),
);

/** The top folder of a module under src/; null for a root module such as app.ts. */
function folderOf(module: string): string | null {
  const slash = module.indexOf("/");
  return slash === -1 ? null : module.slice(0, slash);
}

function featureOf(module: string): string | null {
  const folder = folderOf(module);
  return folder !== null && FEATURES.includes(folder) ? folder : null;
}

const isRoutesModule = (module: string) => /(^|\/)([a-z0-9-]+-)?routes\.tsx?$/.test(module);
const isPagesModule = (module: string) => /(^|\/)([a-z0-9-]+-)?pages\.tsx$/.test(module);

/** feature -> the features it imports -> one import that does it ("jobs/a.ts -> audit/b.ts"). */
function featureGraph(imports: ImportMap): Map<string, Map<string, string>> {
  const graph = new Map<string, Map<string, string>>();
  for (const [module, targets] of imports) {
    const from = featureOf(module);
    if (from === null) continue;
    const edges = graph.get(from) ?? new Map<string, string>();
    graph.set(from, edges);
    for (const target of targets) {
      const to = featureOf(target);
      if (to !== null && to !== from && !edges.has(to)) edges.set(to, `${module} -> ${target}`);
    }
  }
  return graph;
}

/** A circle in a directed graph as its path, first node repeated at the end; null when none. */
function findCycle(graph: ReadonlyMap<string, Iterable<string>>): string[] | null {
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (node: string): string[] | null => {
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      const at = path.indexOf(next);
      if (at !== -1) return [...path.slice(at), next];
      if (!done.has(next)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    path.pop();
    done.add(node);
    return null;
  };
  for (const node of [...graph.keys()].sort()) {
    if (done.has(node)) continue;
    const found = visit(node);
    if (found) return found;
  }
  return null;
}

/** The feature graph's circle in words, each step with an import that makes it; null when none. */
function featureCycle(imports: ImportMap): string | null {
  const graph = featureGraph(imports);
  const cycle = findCycle(new Map([...graph].map(([from, edges]) => [from, edges.keys()])));
  if (cycle === null) return null;
  return cycle
    .slice(1)
    .map((to, i) => `${cycle[i]} -> ${to} (${graph.get(cycle[i]!)!.get(to)})`)
    .join(", ");
}

/** Imports of a feature from a layer or a kernel module. */
function layerViolations(imports: ImportMap): string[] {
  return [...imports].flatMap(([module, targets]) => {
    const folder = folderOf(module);
    const below = folder === null ? KERNEL.includes(module) : LAYERS.includes(folder);
    if (!below) return [];
    return targets.filter((t) => featureOf(t) !== null).map((t) => `${module} -> ${t}`);
  });
}

/** Imports of a routes module by any module but app.ts. */
function routesImportViolations(imports: ImportMap): string[] {
  return [...imports].flatMap(([module, targets]) =>
    module === "app.ts"
      ? []
      : targets.filter(isRoutesModule).map((target) => `${module} -> ${target}`),
  );
}

/** Modules that register routes (app.get, app.post...) but are not named as routes modules. */
function misnamedRouteModules(sources: ReadonlyMap<string, string>): string[] {
  const registers = /\bapp\.(get|post|put|patch|delete|route|all)\s*[<(]/;
  return [...sources]
    .filter(([module, text]) => registers.test(text) && !isRoutesModule(module))
    .map(([module]) => module)
    .filter((module) => module !== "web/server.ts"); // the web kit's favicon redirect
}

/** A feature's .tsx imported by another feature that is not a pages module. */
function viewsOutsidePages(imports: ImportMap): string[] {
  return [...imports].flatMap(([module, targets]) => {
    const from = featureOf(module);
    if (from === null) return [];
    return targets
      .filter((t) => featureOf(t) !== null && featureOf(t) !== from && t.endsWith(".tsx"))
      .filter((t) => !isPagesModule(t) && !isRoutesModule(t))
      .map((t) => `${module} -> ${t}`);
  });
}

/** The folders under src/ that are not layers: the features as they are on disk. */
function featureFolders(folders: string[]): string[] {
  return folders.filter((f) => !LAYERS.includes(f)).sort();
}

function foldersUnderSrc(): string[] {
  return readdirSync(SRC).filter((name) => statSync(join(SRC, name)).isDirectory());
}

function transitiveImports(imports: ImportMap, entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length > 0) {
    for (const next of imports.get(todo.pop()!) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        todo.push(next);
      }
    }
  }
  return seen;
}

/** A module that serves HTTP: a routes module, the app, the web server, the portal's start. */
const loadsHttp = (module: string) =>
  isRoutesModule(module) || ["app.ts", "main.ts", "web/server.ts"].includes(module);

describe("architecture", () => {
  it("reads the imports: relative, #src/, import() and re-exports, over several lines", () => {
    const text = [
      'import type { A } from "../db/schema.ts";',
      'import {\n  b,\n  c,\n} from "#src/jobs/service.ts";',
      'export { d } from "./pages.tsx";',
      'import "./side-effect.ts";',
      'const e = await import("../audit/service.ts");',
      'import pg from "pg";',
    ].join("\n");
    expect(specifiersIn(text).map((s) => resolveSpecifier("students/x.ts", s))).toEqual([
      "db/schema.ts",
      "jobs/service.ts",
      "students/pages.tsx",
      "students/side-effect.ts",
      "audit/service.ts",
      null,
    ]);
    // And the real graph is read: the dashboard shows the jobs' cards.
    expect(featureGraph(IMPORTS).get("dashboard")?.has("jobs")).toBe(true);
  });

  it("FEATURES lists every folder under src/ that is not a layer", () => {
    const folders = foldersUnderSrc();
    for (const layer of LAYERS) expect(folders).toContain(layer);
    expect(featureFolders(folders)).toEqual([...FEATURES].sort());
  });

  it("a new folder is neither a listed feature nor a layer until it is listed", () => {
    expect(featureFolders([...foldersUnderSrc(), "made-up-feature"])).not.toEqual(
      [...FEATURES].sort(),
    );
  });

  it("the features import each other in one direction only, with no circle", () => {
    expect(featureCycle(IMPORTS)).toBeNull();
  });

  it("the circle finder finds a circle, round several features, and says which imports", () => {
    expect(
      findCycle(
        new Map([
          ["a", ["b"]],
          ["b", ["c"]],
          ["c", []],
        ]),
      ),
    ).toBeNull();
    expect(
      findCycle(
        new Map([
          ["a", ["b"]],
          ["b", ["c"]],
          ["c", ["a"]],
        ]),
      ),
    ).toEqual(["a", "b", "c", "a"]);
    expect(
      findCycle(
        new Map([
          ["x", ["a"]],
          ["a", ["b"]],
          ["b", ["a"]],
        ]),
      ),
    ).toEqual(["a", "b", "a"]);
    const made: ImportMap = new Map([
      ["jobs/student-routes.tsx", ["applications/service.ts", "jobs/service.ts"]],
      ["applications/service.ts", ["jobs/lookup.ts", "db/schema.ts"]],
    ]);
    expect(featureCycle(made)).toBe(
      "applications -> jobs (applications/service.ts -> jobs/lookup.ts), " +
        "jobs -> applications (jobs/student-routes.tsx -> applications/service.ts)",
    );
  });

  it("the layers (db, web, sms, placement) and the kernel modules import no feature", () => {
    expect(layerViolations(IMPORTS)).toEqual([]);
  });

  it("the layer check sees a layer or kernel module importing a feature", () => {
    const made: ImportMap = new Map([
      ["sms/outbox-api.ts", ["db/schema.ts", "jobs/service.ts"]],
      ["placement/stages.ts", ["applications/service.ts"]],
      ["log.ts", ["audit/service.ts"]],
      ["app.ts", ["jobs/admin-routes.tsx"]],
    ]);
    expect(layerViolations(made)).toEqual([
      "sms/outbox-api.ts -> jobs/service.ts",
      "placement/stages.ts -> applications/service.ts",
      "log.ts -> audit/service.ts",
    ]);
  });

  it("no module but src/app.ts imports a routes module", () => {
    expect(routesImportViolations(IMPORTS)).toEqual([]);
    // It does see app.ts's: every feature's routes and the SMS webhooks.
    expect(IMPORTS.get("app.ts")?.filter(isRoutesModule)).toContain("sms/webhook-routes.ts");
  });

  it("the routes check sees a module importing another's routes", () => {
    const made: ImportMap = new Map([
      ["dashboard/routes.tsx", ["jobs/student-routes.tsx", "jobs/pages.tsx"]],
      ["students/admin-routes.tsx", ["students/routes.tsx"]],
      ["app.ts", ["dashboard/routes.tsx"]],
    ]);
    expect(routesImportViolations(made)).toEqual([
      "dashboard/routes.tsx -> jobs/student-routes.tsx",
      "students/admin-routes.tsx -> students/routes.tsx",
    ]);
  });

  it("a module that registers routes is named routes.tsx or <area>-routes.ts(x)", () => {
    expect(misnamedRouteModules(SOURCES)).toEqual([]);
    const made = new Map([
      ["jobs/apply.tsx", 'app.post<{ Params: { id: number } }>("/jobs/:id/apply", h);'],
      ["jobs/student-routes.tsx", 'app.get("/jobs", h);'],
    ]);
    expect(misnamedRouteModules(made)).toEqual(["jobs/apply.tsx"]);
  });

  it("a view that another feature shows is in a pages module", () => {
    expect(viewsOutsidePages(IMPORTS)).toEqual([]);
    const made: ImportMap = new Map([
      ["dashboard/routes.tsx", ["students/academic-fields.tsx", "students/pages.tsx"]],
      ["students/admin-routes.tsx", ["students/academic-fields.tsx"]],
    ]);
    expect(viewsOutsidePages(made)).toEqual([
      "dashboard/routes.tsx -> students/academic-fields.tsx",
    ]);
  });

  for (const entry of [
    "sms/dispatcher.ts",
    "maintenance.ts",
    "dispatcher-thread-main.ts",
    "app-context.ts",
  ]) {
    it(`src/${entry} loads no routes module, directly or through others`, () => {
      const loaded = [...transitiveImports(IMPORTS, entry)];
      expect(loaded.length).toBeGreaterThan(0);
      expect(loaded.filter(loadsHttp)).toEqual([]);
    });
  }

  it("the load check sees routes loaded through other modules", () => {
    const loaded = [...transitiveImports(IMPORTS, "main.ts")];
    expect(loaded).toContain("app.ts");
    expect(loaded).toContain("jobs/student-routes.tsx");
  });
});
