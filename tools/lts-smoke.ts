// The smoke tools/lts-smoke.sh runs on each Node.js LTS line: the compiled portal (dist/, as
// `npm start` runs it) started with THIS node on a fresh SQLite folder, pointed at the Twilio
// emulator. It passes when /login answers 200 and the approval SMS of one registered student
// reaches the emulator through the portal's own dispatcher thread. Run it through the script
// (`tools/lts-smoke.sh`), which builds dist/ and better-sqlite3 for the node it runs here.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nishaRegistration, pdfBytes } from "#test/support/client.ts";
import { HttpClient } from "#test/support/http-client.ts";
import { startEmulator, twilioEnv, waitFor } from "#test/support/sms.ts";

const bundle = join(process.cwd(), "dist", "portal.js");
if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run npm run build first`);

const admin = { email: "smoke-admin@college.test", password: "smoke-admin-password-1" };
const phone = "+919845012345";
const dataDir = mkdtempSync(join(tmpdir(), "portal-lts-smoke-"));
const emulator = await startEmulator({ knobs: { latencyMs: 5, callbacks: [] } });
const child = spawn(process.execPath, ["--enable-source-maps", bundle, "serve"], {
  detached: true,
  env: {
    ...process.env,
    ...twilioEnv(emulator),
    NODE_ENV: "development",
    PORT: "0",
    DATA_DIR: dataDir,
    LOG_DIR: join(dataDir, "logs"),
    LOG_LEVEL: "warn",
    DATABASE_URL: "",
    SESSION_SECRET: "lts-smoke-session-secret-0123456789abcdef",
    ADMIN_EMAIL: admin.email,
    ADMIN_PASSWORD: admin.password,
  },
  stdio: ["ignore", "pipe", "pipe"],
});
let output = "";
child.stdout.on("data", (chunk) => (output += chunk));
child.stderr.on("data", (chunk) => (output += chunk));
const exited = once(child, "exit");

function step(what: string) {
  process.stdout.write(`  ok  ${what}\n`);
}

try {
  const url = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`the portal exited with ${child.exitCode}`);
      return /open (http:\/\/\S+)/.exec(output)?.[1];
    },
    60_000,
    "the portal to listen",
  );
  step(`node ${process.version} (ABI ${process.versions.modules}) serves ${url}`);

  const visitor = new HttpClient();
  const login = await visitor.get(url, "/login");
  if (login.status !== 200) throw new Error(`GET /login answered ${login.status}`);
  step("GET /login 200");

  const registered = await visitor.postMultipart(
    url,
    "/register",
    nishaRegistration(pdfBytes("lts smoke")),
  );
  if (registered.status !== 303) throw new Error(`POST /register answered ${registered.status}`);
  step("a student registers (argon2 hash, resume upload)");

  const office = new HttpClient();
  const loggedIn = await office.post(url, "/login", admin);
  if (loggedIn.status !== 303) throw new Error(`the admin's login answered ${loggedIn.status}`);
  const queue = await office.get(url, "/admin/students?status=pending");
  const id = /\/admin\/students\/(\d+)/.exec(queue.body)?.[1];
  if (!id) throw new Error("the approvals queue lists no student");
  const approved = await office.post(url, `/admin/students/${id}/approve`);
  if (approved.status !== 303) throw new Error(`approve answered ${approved.status}`);
  const sms = await waitFor(
    () => emulator.messages.find((m) => m.to === phone),
    30_000,
    "the approval SMS at the emulator",
  );
  if (!sms.body.includes("has been approved")) throw new Error(`unexpected SMS: ${sms.body}`);
  step("the dispatcher thread sent the approval SMS to the emulator");
} catch (error) {
  process.stderr.write(`The portal's output:\n${output}\n`);
  throw error;
} finally {
  if (child.exitCode === null) {
    process.kill(-child.pid!, "SIGTERM");
    await exited;
  }
  await emulator.close();
  rmSync(dataDir, { recursive: true, force: true });
}
