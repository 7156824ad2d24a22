import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { type Logger, pino } from "pino";
import { afterEach, beforeEach } from "vitest";
import { upsertAdmin } from "#src/accounts/service.ts";
import { buildApp } from "#src/app.ts";
import { buildContext } from "#src/app-context.ts";
import { type Config, loadConfig } from "#src/config.ts";
import type { AppContext, Clock } from "#src/context.ts";
import { createLogger, REDACTED_PATHS } from "#src/log.ts";
import { type RegistrationInput, registerStudent } from "#src/students/registration.ts";
import { approveStudents } from "#src/students/verification.ts";
import { createTestDatabase, type TestDatabase } from "./database.ts";

export interface TestApp {
  app: FastifyInstance;
  ctx: AppContext;
  database: TestDatabase;
  dataDir: string;
  close(): Promise<void>;
}

/** Errors logged by the app reach console.error, so an unexpected one fails the test. */
export function testLogger() {
  return pino(
    { level: "error", redact: { paths: REDACTED_PATHS, censor: "[redacted]" } },
    { write: (line: string) => console.error(line.trimEnd()) },
  );
}

/**
 * The application log as the portal writes it (`createLogger`, every level), each line kept in
 * `lines` for a test to search; errors still reach console.error, as with `testLogger`.
 */
export function capturedLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const log = createLogger(
    { LOG_LEVEL: "trace" },
    {
      write(line: string) {
        lines.push(line);
        if ((JSON.parse(line) as { level: number }).level >= 50) console.error(line.trimEnd());
      },
    },
  );
  return { log, lines };
}

export const TEST_SESSION_SECRET = "test-session-secret-that-is-long-enough-0123456789";

/** The app on a fresh database, with its own data folder; every setting can be overridden. */
export async function createTestApp(
  env: Record<string, string> = {},
  options: { log?: Logger; clock?: Clock } = {},
): Promise<TestApp> {
  const database = await createTestDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), "portal-data-"));
  const config: Config = loadConfig(
    {
      NODE_ENV: "test",
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      LOG_DIR: join(dataDir, "logs"),
      // Tests send at any hour; one about quiet hours sets its own window.
      SMS_QUIET_HOURS: "",
      ...env,
    },
    {},
  );
  // The real clock: the dispatcher's timers and the rows' due times must agree. A test may give
  // the app another (an office whose clock is behind the database's, to stand for time passed).
  const ctx = buildContext(config, database, {
    log: options.log ?? testLogger(),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const app = await buildApp(ctx, { sessionSecret: TEST_SESSION_SECRET });
  await app.ready();
  return {
    app,
    ctx,
    database,
    dataDir,
    async close() {
      await app.close();
      await database.destroy();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A fresh app for each test of the file (built before it, closed after it): `const t =
 * useTestApp()` at the top of a file, then `t.app`, `t.ctx` in its tests. `env` may be a function
 * for settings known only when the test starts (an emulator's URL).
 */
export function useTestApp(
  env: Record<string, string> | (() => Record<string, string>) = {},
): TestApp {
  let current: TestApp | undefined;
  beforeEach(async () => {
    current = await createTestApp(typeof env === "function" ? env() : env);
  });
  afterEach(async () => {
    const closing = current;
    current = undefined;
    await closing?.close();
  });
  const now = (): TestApp => {
    if (!current) throw new Error("useTestApp: the app exists only while a test runs");
    return current;
  };
  return {
    get app() {
      return now().app;
    },
    get ctx() {
      return now().ctx;
    },
    get database() {
      return now().database;
    },
    get dataDir() {
      return now().dataDir;
    },
    close: () => now().close(),
  };
}

let counter = 0;

/** Registration data that passes validation; each call gets a unique email and roll number. */
export function studentInput(overrides: Partial<RegistrationInput> = {}): RegistrationInput {
  counter += 1;
  const n = String(counter).padStart(3, "0");
  return {
    full_name: `Asha Rao ${n}`,
    roll_number: `1XY22CS${n}`,
    email: `asha${n}@college.test`,
    password: "correct horse battery",
    password_confirm: "correct horse battery",
    phone: `+9198765${String(43000 + counter).padStart(5, "0")}`,
    department: "CSE",
    semester: 7,
    graduation_year: 2027,
    cgpa: 8.2,
    active_backlogs: 0,
    skills: "Java, SQL",
    ...overrides,
  };
}

export async function createStudent(
  ctx: AppContext,
  options: { approved?: boolean } & Partial<RegistrationInput> = {},
) {
  const { approved = false, ...overrides } = options;
  const input = studentInput(overrides);
  const result = await registerStudent(ctx, input, undefined);
  if (!result.ok) throw new Error(`createStudent failed: ${JSON.stringify(result.errors)}`);
  if (approved) await approveStudents(ctx, await approver(ctx), [result.value.studentId]);
  return { id: result.value.studentId, ...input };
}

const approvers = new WeakMap<AppContext, Promise<{ id: number; email: string }>>();

/** The one admin who approves every student `createStudent` makes on a database. */
function approver(ctx: AppContext) {
  let admin = approvers.get(ctx);
  if (!admin) {
    admin = createAdmin(ctx, "approver@college.test");
    approvers.set(ctx, admin);
  }
  return admin;
}

export async function createAdmin(
  ctx: AppContext,
  email = "admin@college.test",
  password = "admin-password-1",
) {
  const { id } = await upsertAdmin(ctx, email, password);
  return { id, email, password };
}

/** A job through the service (form parsing is tested on its own); open, deadline in a week. */
export async function postJob(
  ctx: AppContext,
  overrides: Partial<import("#src/jobs/service.ts").JobInput> = {},
  actor?: { id: number; email: string },
) {
  const { createJob } = await import("#src/jobs/service.ts");
  const admin = actor ?? (await createAdmin(ctx, "jobs-admin@college.test"));
  const input = {
    company: "Infosys",
    title: "Systems Engineer",
    type: "placement" as const,
    description: "Join us.",
    location: "Mysuru",
    package_range: "3.6 LPA",
    official_link: null,
    departments: [],
    graduation_years: [],
    semesters: [],
    min_cgpa: null,
    max_backlogs: null,
    apply_by: new Date(Date.now() + 7 * 24 * 3600 * 1000).toISOString(),
    send_sms: false,
    nudge_hours: null,
    submission_id: null,
    ...overrides,
  };
  const { id, alerts } = await createJob(ctx, admin, input);
  return { id, alerts, input, admin };
}
