// @both-databases: concurrency is settled by statements and constraints that differ between the databases
import { mkdirSync, writeFileSync } from "node:fs";
import { format } from "node:util";
import type { InjectOptions, LightMyRequestResponse } from "fastify";
import { sql } from "kysely";
import twilio from "twilio";
import { afterAll, describe, expect, it } from "vitest";
import { LOGIN_LIMITS } from "#src/accounts/login-limits.ts";
import {
  RESET_CODE_MAX_TRIES,
  RESET_LIMITS,
  requestResetCode,
} from "#src/accounts/password-reset.ts";
import { postAnnouncement } from "#src/announcements/service.ts";
import { applyToJob, changeStatus } from "#src/applications/service.ts";
import type { LimitEventKind } from "#src/db/schema.ts";
import { findJob, setJobStatus } from "#src/jobs/service.ts";
import { closedReasons, ineligibilityReasons, meetsRules } from "#src/placement/eligibility.ts";
import { TRANSITIONS } from "#src/placement/stages.ts";
import { pauseSending } from "#src/sms/outbox.ts";
import { KINDS_SENT_DESPITE_OPT_OUT } from "#src/sms/outbox-api.ts";
import { LAST_SEMESTER } from "#src/students/academic-record.ts";
import {
  PHONE_CODE_MAX_TRIES,
  PHONE_CODE_REQUESTS,
  startPhoneChange,
} from "#src/students/phone-change.ts";
import { registrationLimits } from "#src/students/registration-limits.ts";
import { type LimitSetting, resolveLimits } from "#src/web/limits.ts";
import { toLocalInput } from "#src/web/time.ts";
import {
  createAdmin,
  createStudent,
  createTestApp,
  postJob,
  type TestApp,
} from "#test/support/app.ts";
import { loginAs, pdfBytes, TestClient } from "#test/support/client.ts";
import { testDialect } from "#test/support/database.ts";
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_FROM } from "#test/support/sms.ts";

/**
 * The hostile suite's concurrent mode: every state-changing route of `app.routeTable` gets a
 * burst of identical requests (one session, one CSRF token, one body, all in flight at once) and
 * a burst of varied ones (valid values that differ, mixed with hostile ones, from several sessions
 * and addresses), each on a fresh app. After each burst:
 *
 * - no 5xx, and the app logged no error;
 * - every limit holds: the limit events kept are replayed against the limits of the code, and the
 *   answers of the limited forms count no more acceptances than their limit;
 * - no row twice: a burst of identical requests leaves no more rows in any table, audit entries
 *   per action and SMS per kind than the same requests sent one after another on a twin app with
 *   the same scene (on SQLite: createSqliteApp; for the two paced forms, which answer no sooner
 *   than 200 ms, the limits say it instead); and one message, approval, posting per cause holds;
 * - no row outside its rules: applications only to open jobs the student is eligible for, stages
 *   only along the allowed moves, no SMS to a student who opted out, job alerts only to eligible
 *   students, counts that match the rows they count.
 *
 * The figures (routes, requests, answers by status, violations) are printed and written to
 * test-results/hostile-concurrent-<database>.json for the issue's note.
 */

const PUBLIC = "https://portal.college.test";
/** Requests per burst; `HOSTILE_BURST=50` presses harder. */
const N = Number(process.env.HOSTILE_BURST ?? 20);
const ENV = {
  SMS_BACKEND: "twilio",
  // Nothing listens there, and no dispatcher runs here: messages stay queued.
  TWILIO_API_URL: "http://127.0.0.1:9",
  TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
  TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
  TWILIO_PHONE_NUMBER: TEST_FROM,
  PUBLIC_BASE_URL: PUBLIC,
  // An undelivered callback queues one resend: a row that must not come twice.
  SMS_RESEND_UNDELIVERED_SECONDS: "60",
};

const NEXT_YEAR = new Date().getUTCFullYear() + 1;
const IN_A_WEEK = () => toLocalInput(new Date(Date.now() + 7 * 86_400_000).toISOString());
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

/** Values that broke web apps before, a few of each kind (the full list is test/hostile.test.ts's). */
const NASTY = [
  "",
  "\u0000",
  "a\u0000b",
  "1e309",
  "-1",
  "0x0A",
  "9".repeat(400),
  "2147483648",
  "2027-02-30T10:00",
  "<script>alert(1)</script>",
  "' OR '1'='1' --",
  "\uD800",
  "x".repeat(5000),
  "__proto__",
  "selected",
  "withdrawn",
];
const STRAY_KEYS = ["__proto__", "constructor", "id", "role", "status", "user_id"];

// ---------------------------------------------------------------------------------------------
// The scene each route is pressed on

interface Person {
  id: number;
  email: string;
  password: string;
  phone?: string;
}

interface Fixture {
  t: TestApp;
  admin: Person;
  admin2: Person;
  /** The signed-in student; s3 opted out of SMS. */
  s1: Person;
  s2: Person;
  s3: Person;
  pending: Person[];
  jobs: { open: number; ineligible: number; closed: number; empty: number; applied: number };
  apps: { s1Applied: number; s2Open: number; s3Open: number; s2Applied: number };
  sms: { failed: number; sent: number; sentSid: string };
  announcement: number;
  /** The reset code of s2, once a route's `prepare` asked for one. */
  resetCode?: string;
  /** The code confirming s1's new number, once a route asked for one. */
  phoneCode?: string;
  /** Ids of the users rows of s1 and s2 (not admins). */
  s1UserId: number;
  /** A pending pre-placement offer to s1, and the roll numbers of s1 and s2. */
  offer: number;
  rolls: { s1: string; s2: string };
  /** The 2027 policy's `updated_at`, once a route's `prepare` stored one. */
  policyUpdatedAt?: string;
}

async function fixture(t: TestApp): Promise<Fixture> {
  const ctx = t.ctx;
  const now = () => ctx.clock.now().toISOString();
  const admin = await createAdmin(ctx);
  const admin2 = await createAdmin(ctx, "second-admin@college.test", "second-admin-password");
  const student = async (approved: boolean, extra: { semester?: number } = {}) => {
    const s = await createStudent(ctx, { approved, ...extra });
    return { id: s.id, email: s.email, password: s.password, phone: s.phone };
  };
  const s1 = await student(true);
  const s2 = await student(true, { semester: 5 });
  const s3 = await student(true);
  await ctx.db
    .updateTable("students")
    .set({ sms_opted_out_at: now() })
    .where("id", "=", s3.id)
    .execute();
  const pending = [
    await student(false),
    await student(false),
    await student(false),
    await student(false),
  ];
  const job = async (overrides: Parameters<typeof postJob>[1] = {}) =>
    (await postJob(ctx, overrides, admin)).id;
  const jobs = {
    open: await job({ title: "Open to all" }),
    ineligible: await job({ title: "CGPA 9.5", min_cgpa: 9.5 }),
    closed: await job({ title: "Closed" }),
    empty: await job({ title: "Nobody applied" }),
    applied: await job({ title: "Applied to" }),
  };
  await setJobStatus(ctx, admin, jobs.closed, "closed");
  const apply = async (studentId: number, jobId: number) => {
    const result = await applyToJob(ctx, studentId, jobId);
    if (!result.ok) throw new Error(`fixture: ${result.message}`);
    return result.applicationId;
  };
  const apps = {
    s1Applied: await apply(s1.id, jobs.applied),
    s2Open: await apply(s2.id, jobs.open),
    s3Open: await apply(s3.id, jobs.open),
    s2Applied: await apply(s2.id, jobs.applied),
  };
  const announcement = await postAnnouncement(ctx, admin, {
    title: "Pre-placement talk",
    message: "Infosys on Monday.",
    send_sms: true,
    submission_id: null,
  });
  const approvalOf = async (studentId: number) =>
    (
      await ctx.db
        .selectFrom("sms_messages")
        .select("id")
        .where("kind", "=", "approval")
        .where("student_id", "=", studentId)
        .executeTakeFirstOrThrow()
    ).id;
  const failed = await approvalOf(s2.id);
  await ctx.db
    .updateTable("sms_messages")
    .set({ status: "failed", error_code: 30006, error_message: "Landline or unreachable carrier" })
    .where("id", "=", failed)
    .execute();
  const sent = await approvalOf(s1.id);
  const sentSid = `SM${"0123456789abcdef".repeat(2)}`;
  await ctx.db
    .updateTable("sms_messages")
    .set({ status: "sent", twilio_sid: sentSid, provider_status: "sent", sent_at: now() })
    .where("id", "=", sent)
    .execute();
  const s1User = await ctx.db
    .selectFrom("users")
    .select("id")
    .where("email", "=", s1.email)
    .executeTakeFirstOrThrow();
  const rollOf = async (id: number) =>
    (
      await ctx.db
        .selectFrom("students")
        .select("roll_number")
        .where("id", "=", id)
        .executeTakeFirstOrThrow()
    ).roll_number;
  const offer = await ctx.db
    .insertInto("offers")
    .values({
      student_id: s1.id,
      source: "ppo",
      job_id: null,
      application_id: null,
      company: "Microsoft",
      role: "Engineer",
      location: "Hyderabad",
      fixed_lpa: 30,
      variable_lpa: 5,
      ctc_lpa: 35,
      joining_date: null,
      answer_by: new Date(ctx.clock.now().getTime() + 5 * 86_400_000).toISOString(),
      status: "pending",
      created_by: admin.id,
      created_at: now(),
      updated_at: now(),
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return {
    offer: offer.id,
    rolls: { s1: await rollOf(s1.id), s2: await rollOf(s2.id) },
    t,
    admin,
    admin2,
    s1,
    s2,
    s3,
    pending,
    jobs,
    apps,
    sms: { failed, sent, sentSid },
    announcement: announcement.id!,
    s1UserId: s1User.id,
  };
}

// ---------------------------------------------------------------------------------------------
// Requests

interface FilePart {
  filename: string;
  data: Buffer;
}
type Body = Record<string, string | string[] | FilePart>;
type Role = "admin" | "student" | "anonymous" | "twilio";

/** Who sends: a session cookie, its CSRF token and an address. */
interface Sender {
  cookie: string;
  csrf: string;
  address: string;
}

async function senders(f: Fixture, role: Role, count: number): Promise<Sender[]> {
  const out: Sender[] = [];
  for (let i = 0; i < count; i++) {
    const address = `10.${role.length}.0.${i + 1}`;
    let client: TestClient;
    if (role === "admin") client = await loginAs(f.t.app, f.admin.email, f.admin.password);
    else if (role === "student") client = await loginAs(f.t.app, f.s1.email, f.s1.password);
    else client = new TestClient(f.t.app);
    const csrf = role === "twilio" ? "" : await client.refreshCsrf();
    out.push({ cookie: client.cookieHeader, csrf, address });
  }
  return out;
}

async function encodeMultipart(body: Body): Promise<{ payload: Buffer; contentType: string }> {
  const form = new FormData();
  for (const [k, v] of Object.entries(body)) {
    if (typeof v === "string") form.append(k, v);
    else if (Array.isArray(v)) for (const one of v) form.append(k, one);
    else
      form.append(k, new Blob([new Uint8Array(v.data)], { type: "application/pdf" }), v.filename);
  }
  const request = new Request("http://localhost/", { method: "POST", body: form });
  return {
    payload: Buffer.from(await request.arrayBuffer()),
    contentType: request.headers.get("content-type")!,
  };
}

function encodeForm(body: Body): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(body))
    for (const one of [v].flat()) if (typeof one === "string") params.append(k, one);
  return params.toString();
}

/** A body a browser never sends, for the hostile share of a varied burst. */
const BROKEN = [
  { contentType: "text/plain", payload: "garbage" },
  { contentType: "multipart/form-data", payload: "--XYZ--\r\n" },
  { contentType: "application/json", payload: '{"__proto__":{"admin":true}}' },
  { contentType: "application/x-www-form-urlencoded", payload: "%ZZ=%00&a=%E0%A4&&==" },
];

interface Outgoing {
  options: InjectOptions;
  address: string;
}

async function buildRequest(
  plan: Plan,
  url: string,
  sender: Sender,
  body: Body | { broken: number },
): Promise<Outgoing> {
  const headers: Record<string, string> = {};
  if (sender.cookie) headers.cookie = sender.cookie;
  let payload: string | Buffer;
  if ("broken" in body) {
    const broken = BROKEN[Number(body.broken) % BROKEN.length]!;
    headers["content-type"] = broken.contentType;
    payload = broken.payload;
  } else if (plan.role === "twilio") {
    const params = Object.fromEntries(
      Object.entries(body).filter(([k]) => k !== "_unsigned"),
    ) as Record<string, string>;
    headers["content-type"] = "application/x-www-form-urlencoded";
    if (!body._unsigned)
      headers["x-twilio-signature"] = twilio.getExpectedTwilioSignature(
        TEST_AUTH_TOKEN,
        `${PUBLIC}${url}`,
        params,
      );
    payload = encodeForm(params);
  } else if (plan.multipart) {
    const encoded = await encodeMultipart({ _csrf: sender.csrf, ...body });
    headers["content-type"] = encoded.contentType;
    payload = encoded.payload;
  } else {
    headers["content-type"] = "application/x-www-form-urlencoded";
    payload = encodeForm({ _csrf: sender.csrf, ...body });
  }
  return {
    options: { method: "POST", url, headers, payload, remoteAddress: sender.address },
    address: sender.address,
  };
}

/** A valid body with one field made hostile (or a stray key added). */
function hostileBody(valid: Body, i: number): Body {
  const keys = Object.keys(valid).filter((k) => typeof valid[k] === "string");
  const value = NASTY[(i * 7) % NASTY.length]!;
  if (keys.length === 0 || i % 3 === 0)
    return { ...valid, [STRAY_KEYS[i % STRAY_KEYS.length]!]: value };
  return { ...valid, [keys[i % keys.length]!]: value };
}

// ---------------------------------------------------------------------------------------------
// What each route is sent

interface Burst {
  kind: "identical" | "varied";
  responses: { status: number; address: string; url: string }[];
}

interface Plan {
  role: Role;
  multipart?: boolean;
  /** The path parameter of the identical burst. */
  id?: (f: Fixture) => number | string;
  /** The valid body sent N times at once. */
  same: (f: Fixture) => Body;
  /** The i-th valid request of the varied burst (its id and body); default: `same`. */
  vary?: (f: Fixture, i: number) => { id?: number | string; body: Body };
  /** Sets the scene further before the bursts (on both twins). */
  prepare?: (f: Fixture) => Promise<void>;
  /** Sessions (each from its own address) the varied burst comes from; default 3. */
  pool?: number;
  /** Answers no sooner than 200 ms: no sequential twin (N of them would take N/5 s). */
  paced?: boolean;
  /** Between the bursts: what the identical one changed that the varied one must know. */
  after?: (f: Fixture) => void | Promise<void>;
  /** Checks of this route's own limits or effects, after a burst. */
  check?: (f: Fixture, burst: Burst, limits: Limits) => string[];
}

const count = (burst: Burst, status: number) =>
  burst.responses.filter((r) => r.status === status).length;

function perAddress(burst: Burst, status: number): Map<string, number> {
  const by = new Map<string, number>();
  for (const r of burst.responses)
    if (r.status === status) by.set(r.address, (by.get(r.address) ?? 0) + 1);
  return by;
}

const confirmed = { confirm: "yes" };

const PLANS: Record<string, Plan> = {
  "/logout": { role: "student", same: () => ({}) },
  "/login": {
    role: "anonymous",
    same: (f) => ({ email: f.admin.email, password: "a wrong password" }),
    vary: (f, i) => ({
      body: [
        { email: f.admin.email, password: `guess ${i}` },
        { email: f.s1.email, password: f.s1.password },
        { email: `nobody${i}@college.test`, password: "whatever it is" },
        { email: f.s2.email.toUpperCase(), password: `guess ${i}` },
      ][i % 4]!,
    }),
    check: (_f, burst, limits) => {
      // Passwords checked (401) from one address on one account: at most the account's limit.
      const max = limits.max(LOGIN_LIMITS.perAccount);
      return burst.kind === "identical" && count(burst, 401) > max
        ? [`${count(burst, 401)} wrong passwords checked, limit ${max}`]
        : [];
    },
  },
  "/password/forgot": {
    role: "anonymous",
    paced: true,
    same: (f) => ({ email: f.s2.email }),
    vary: (f, i) => ({
      body: { email: [f.s1.email, f.s2.email, f.s3.email, `nobody${i}@college.test`][i % 4]! },
    }),
    check: (_f, burst, limits) => {
      const breaks: string[] = [];
      const max = limits.max(RESET_LIMITS.requestsPerAccount);
      if (burst.kind === "identical" && count(burst, 303) > max)
        breaks.push(`${count(burst, 303)} codes asked for one email, limit ${max}`);
      for (const [address, n] of perAddress(burst, 303))
        if (n > limits.max(RESET_LIMITS.requestsPerAddress))
          breaks.push(`${n} code requests taken from ${address}`);
      return breaks;
    },
  },
  "/password/reset": {
    role: "anonymous",
    paced: true,
    prepare: async (f) => {
      await requestResetCode(f.t.ctx, f.s2.email, "10.77.0.1");
      const sms = await f.t.ctx.db
        .selectFrom("sms_messages")
        .select("body")
        .where("kind", "=", "password_reset")
        .executeTakeFirstOrThrow();
      f.resetCode = /\b(\d{6})\b/.exec(sms.body)![1]!;
    },
    same: (f) => ({
      email: f.s2.email,
      code: f.resetCode!,
      password: "a brand new password",
      password_confirm: "a brand new password",
    }),
    vary: (f, i) => ({
      body: {
        email: f.s2.email,
        code:
          i === N - 1 ? f.resetCode! : String((Number(f.resetCode) + i + 1) % 1e6).padStart(6, "0"),
        password: "taken over at last",
        password_confirm: "taken over at last",
      },
    }),
    check: (_f, burst) =>
      count(burst, 303) > 1 ? [`one code changed the password ${count(burst, 303)} times`] : [],
  },
  "/student/password": {
    role: "student",
    after: (f) => {
      f.s1.password = "a new password 2";
    },
    same: (f) => ({
      current_password: f.s1.password,
      password: "a new password 2",
      password_confirm: "a new password 2",
    }),
    vary: (f, i) => ({
      body: {
        current_password: i % 2 ? f.s1.password : `wrong ${i}`,
        password: `a new password ${i}`,
        password_confirm: `a new password ${i}`,
      },
    }),
  },
  "/admin/password": {
    role: "admin",
    after: (f) => {
      f.admin.password = "a new admin password";
    },
    same: (f) => ({
      current_password: f.admin.password,
      password: "a new admin password",
      password_confirm: "a new admin password",
    }),
    vary: (f, i) => ({
      body: {
        current_password: i % 2 ? f.admin.password : `wrong ${i}`,
        password: `a new admin password ${i}`,
        password_confirm: `a new admin password ${i}`,
      },
    }),
  },
  "/admin/admins": {
    role: "admin",
    same: () => ({
      email: "third-admin@college.test",
      password: "third admin password",
      password_confirm: "third admin password",
    }),
    vary: (_f, i) => ({
      body: {
        email: `admin-${i % 5}@college.test`,
        password: "another admin password",
        password_confirm: "another admin password",
      },
    }),
  },
  "/admin/admins/:id/password": {
    role: "admin",
    id: (f) => f.admin2.id,
    same: () => ({ password: "reset by another", password_confirm: "reset by another" }),
    vary: (f, i) => ({
      id: [f.admin2.id, f.admin.id, f.s1UserId, 999_999][i % 4]!,
      body: { password: `reset ${i} by another`, password_confirm: `reset ${i} by another` },
    }),
  },
  "/register": {
    role: "anonymous",
    multipart: true,
    // Two addresses; a third of the varied forms share one email (its limit is what stops them).
    pool: 2,
    same: () => registration(1),
    vary: (_f, i) => ({
      body: registration(100 + i, i % 3 === 0 ? "burst-same@college.test" : undefined),
    }),
    check: (_f, burst, limits) => {
      // An existing email answers as a new one does: every answer that took an attempt is a 303.
      const { registration: r } = limits.settings;
      const breaks = [...perAddress(burst, 303)]
        .filter(([, n]) => n > limits.max(r.perAddress))
        .map(([address, n]) => `${n} registrations taken from ${address}`);
      const identity = Math.min(...[r.perEmail, r.perRollNumber, r.perPhone].map(limits.max));
      if (burst.kind === "identical" && count(burst, 303) > identity)
        breaks.push(`${count(burst, 303)} registrations of one identity taken, limit ${identity}`);
      return breaks;
    },
  },
  "/student/profile": {
    role: "student",
    multipart: true,
    same: (f) => ({
      phone: f.s1.phone!,
      skills: "Go, Rust",
      sms: "on",
      resume: { filename: "cv.pdf", data: pdfBytes("burst") },
    }),
    vary: (f, i) => ({
      body: {
        phone: f.s1.phone!,
        skills: `Skill ${i}`,
        ...(i % 2 ? { sms: "on" } : {}),
        ...(i % 3 ? { resume: { filename: `cv${i}.pdf`, data: pdfBytes(`resume ${i}`) } } : {}),
      },
    }),
  },
  "/student/phone": {
    role: "student",
    prepare: (f) => askPhoneCode(f, "+919811122233"),
    // The number changed once; a second change waits for the varied burst's codes.
    after: (f) => askPhoneCode(f, "+919811122244"),
    same: (f) => ({ code: f.phoneCode! }),
    vary: (f, i) => ({
      body: {
        code:
          i === N - 1 ? f.phoneCode! : String((Number(f.phoneCode) + i + 1) % 1e6).padStart(6, "0"),
      },
    }),
  },
  "/admin/students/:id/phone": {
    role: "admin",
    id: (f) => f.s2.id,
    same: () => ({ phone: "+919822233344", ...confirmed }),
    vary: (f, i) => ({
      id: [f.s2.id, f.s1.id, 999_999][i % 3]!,
      body: { phone: ["+919822233355", "+919822233366"][i % 2]!, ...(i % 4 ? confirmed : {}) },
    }),
  },
  "/admin/students/:id/placement": {
    role: "admin",
    id: (f) => f.s2.id,
    same: () => ({ take_part: "no", ...confirmed }),
    vary: (f, i) => ({
      id: [f.s2.id, f.s1.id, 999_999][i % 3]!,
      body: { take_part: i % 2 ? "yes" : "no", ...(i % 4 ? confirmed : {}) },
    }),
  },
  "/student/offers/:id/accept": {
    role: "student",
    id: (f) => f.offer,
    same: () => confirmed,
    vary: (f, i) => ({ id: [f.offer, 999_999][i % 2]!, body: i % 3 ? confirmed : {} }),
  },
  "/student/offers/:id/decline": {
    role: "student",
    id: (f) => f.offer,
    same: () => confirmed,
    vary: (f, i) => ({ id: [f.offer, 999_999][i % 2]!, body: i % 3 ? confirmed : {} }),
  },
  "/admin/offers/:id/withdraw": {
    role: "admin",
    id: (f) => f.offer,
    same: () => ({ reason: "Hiring freeze", ...confirmed }),
    vary: (f, i) => ({
      id: [f.offer, 999_999][i % 2]!,
      body: { reason: i % 3 ? "Hiring freeze" : "", ...confirmed },
    }),
  },
  "/admin/offers/:id/letter": {
    role: "admin",
    multipart: true,
    id: (f) => f.offer,
    same: () => ({ letter: { filename: "offer.pdf", data: pdfBytes("offer letter") } }),
  },
  "/admin/offers/new": {
    role: "admin",
    same: (f) => offerForm({ roll_numbers: `${f.rolls.s1}\n${f.rolls.s2}`, company: "Amazon" }),
    vary: (f, i) => ({
      body: offerForm({
        roll_numbers: [f.rolls.s2, `${f.rolls.s1}, ${f.rolls.s2}`, "NOSUCH"][i % 3]!,
        company: ["Amazon", "Adobe"][i % 2]!,
        source: i % 4 === 3 ? "off_campus" : "ppo",
      }),
    }),
  },
  "/admin/jobs/:id/offers": {
    role: "admin",
    id: (f) => f.jobs.applied,
    // Selected without an offer (the box unticked): the office records the offers later.
    prepare: async (f) => {
      await changeStatus(
        f.t.ctx,
        { id: f.admin.id, email: f.admin.email },
        [f.apps.s1Applied, f.apps.s2Applied],
        "selected",
      );
    },
    same: (f) => offerForm({ ids: [String(f.apps.s1Applied), String(f.apps.s2Applied)] }),
    vary: (f, i) => ({
      body: offerForm({
        ids: [String([f.apps.s1Applied, f.apps.s2Applied, 999_999][i % 3]!)],
        fixed_lpa: String(5 + (i % 3)),
      }),
    }),
  },
  "/admin/policies/:year": {
    role: "admin",
    id: () => 2027,
    same: () => policyForm(),
    vary: (_f, i) => ({
      id: [2027, 2028][i % 2]!,
      body: policyForm({ max_accepted: String(1 + (i % 2)) }),
    }),
  },
  "/admin/policies/:year/remove": {
    role: "admin",
    id: () => 2027,
    prepare: async (f) => {
      const at = new Date(f.t.ctx.clock.now().getTime() - 60_000).toISOString();
      await f.t.ctx.db
        .insertInto("placement_policies")
        .values({
          graduation_year: 2027,
          max_accepted: 1,
          tiers: JSON.stringify([{ name: "Regular", fromLpa: 0 }]),
          placed_may_apply: "none",
          package_multiple: null,
          block_on_decline: 0,
          ppo_in_campus: 1,
          updated_by: null,
          updated_at: at,
        })
        .onConflict((oc) => oc.column("graduation_year").doNothing())
        .execute();
      f.policyUpdatedAt = (
        await f.t.ctx.db
          .selectFrom("placement_policies")
          .select("updated_at")
          .where("graduation_year", "=", 2027)
          .executeTakeFirstOrThrow()
      ).updated_at;
    },
    same: (f) => ({ base_updated_at: f.policyUpdatedAt ?? "", ...confirmed }),
  },
  "/admin/limits/:name": {
    role: "admin",
    id: () => LOGIN_LIMITS.perAddress.name,
    same: () => ({ max: "60", window_minutes: "15" }),
    vary: (_f, i) => ({
      id: [
        LOGIN_LIMITS.perAddress.name,
        RESET_LIMITS.requestsPerAccount.name,
        PHONE_CODE_REQUESTS.name,
        "no.such_limit",
      ][i % 4]!,
      body: { max: String(2 + (i % 5)), window_minutes: String(15 * (1 + (i % 3))) },
    }),
  },
  "/student/applications/:id/withdraw": {
    role: "student",
    id: (f) => f.apps.s1Applied,
    same: () => confirmed,
    vary: (f, i) => ({
      id: [f.apps.s1Applied, f.apps.s2Open, 999_999][i % 3]!,
      body: i % 4 === 1 ? {} : confirmed,
    }),
  },
  "/student/jobs/:id/apply": {
    role: "student",
    id: (f) => f.jobs.open,
    same: () => ({}),
    vary: (f, i) => ({
      id: [f.jobs.open, f.jobs.ineligible, f.jobs.closed, f.jobs.empty, f.jobs.applied][i % 5]!,
      body: {},
    }),
  },
  "/admin/jobs/new": {
    role: "admin",
    same: () => jobForm({ submission_id: uuid(1), send_sms: "on" }),
    vary: (_f, i) => ({
      body: jobForm({
        // Pairs share a one-time id: each pair posts once.
        submission_id: uuid(100 + Math.floor(i / 2)),
        title: `Varied ${i}`,
        ...(i % 2 ? { send_sms: "on" } : {}),
        ...(i % 3 === 0 ? { min_cgpa: "8.5" } : {}),
        ...(i % 7 === 6 ? { intent: "preview" } : {}),
      }),
    }),
  },
  "/admin/jobs/:id": {
    role: "admin",
    id: (f) => f.jobs.open,
    same: () => jobForm({ title: "Edited title", min_cgpa: "7" }),
    vary: (f, i) => ({
      id: [f.jobs.open, f.jobs.applied, 999_999][i % 3]!,
      body: jobForm({ title: `Edited ${i}`, ...(i % 2 ? { min_cgpa: "6.5" } : {}) }),
    }),
  },
  "/admin/jobs/:id/close": {
    role: "admin",
    id: (f) => f.jobs.open,
    same: () => ({}),
    vary: (f, i) => ({
      id: [f.jobs.open, f.jobs.closed, f.jobs.applied, 999_999][i % 4]!,
      body: {},
    }),
  },
  "/admin/jobs/:id/reopen": {
    role: "admin",
    id: (f) => f.jobs.closed,
    same: () => ({}),
    vary: (f, i) => ({ id: [f.jobs.closed, f.jobs.open, 999_999][i % 3]!, body: {} }),
  },
  "/admin/jobs/:id/delete": {
    role: "admin",
    id: (f) => f.jobs.empty,
    same: () => confirmed,
    vary: (f, i) => ({
      id: [f.jobs.empty, f.jobs.open, f.jobs.closed, 999_999][i % 4]!,
      body: i % 5 === 4 ? {} : confirmed,
    }),
  },
  "/admin/applications/:id/status": {
    role: "admin",
    id: (f) => f.apps.s2Open,
    same: () => ({ to: "shortlisted" }),
    vary: (f, i) => ({
      id: [f.apps.s2Open, f.apps.s3Open, f.apps.s1Applied][i % 3]!,
      body: {
        to: ["shortlisted", "interview", "selected", "rejected", "withdrawn", "applied"][i % 6]!,
        ...confirmed,
      },
    }),
  },
  "/admin/applications/status": {
    role: "admin",
    same: (f) => ({
      ids: [String(f.apps.s2Open), String(f.apps.s3Open)],
      to: "shortlisted",
      ...confirmed,
    }),
    vary: (f, i) => ({
      body: {
        ids: [f.apps.s2Open, f.apps.s3Open, f.apps.s1Applied, f.apps.s2Applied]
          .filter((_, k) => (i + k) % 3 !== 0)
          .map(String),
        to: ["shortlisted", "interview", "selected", "rejected"][i % 4]!,
        ...confirmed,
      },
    }),
  },
  "/admin/announcements": {
    role: "admin",
    same: () => ({
      title: "Drive tomorrow",
      message: "Seminar hall at 10.",
      submission_id: uuid(2),
      send_sms: "on",
    }),
    vary: (f, i) => ({
      body: {
        title: `Varied ${i}`,
        message: "Line one\r\nLine two",
        submission_id: uuid(200 + Math.floor(i / 2)),
        ...(i % 2 ? { send_sms: "on" } : {}),
        ...[
          {},
          { audience: "students", departments: "CSE" },
          { audience: "applicants", job_id: String(f.jobs.open) },
          { audience: "applicants", job_id: String(f.jobs.empty) },
        ][i % 4],
      },
    }),
  },
  "/admin/announcements/:id/delete": {
    role: "admin",
    id: (f) => f.announcement,
    same: () => confirmed,
    vary: (f, i) => ({ id: [f.announcement, 999_999][i % 2]!, body: i % 5 ? confirmed : {} }),
  },
  "/admin/students/:id/academics": {
    role: "admin",
    id: (f) => f.s2.id,
    same: () => academics({ cgpa: "7.9", active_backlogs: "1" }),
    vary: (f, i) => ({
      id: [f.s2.id, f.s1.id, f.pending[0]!.id][i % 3]!,
      body: academics({ cgpa: `${5 + (i % 5)}.5`, semester: String(1 + (i % 8)) }),
    }),
  },
  "/admin/students/:id/approve": {
    role: "admin",
    id: (f) => f.pending[0]!.id,
    same: () => ({}),
    vary: (f, i) => ({ id: [...f.pending.map((p) => p.id), f.s1.id][i % 5]!, body: {} }),
  },
  "/admin/students/approve": {
    role: "admin",
    same: (f) => ({ ids: [String(f.pending[0]!.id), String(f.pending[1]!.id)] }),
    vary: (f, i) => ({
      body: { ids: f.pending.filter((_, k) => (i + k) % 2 === 0).map((p) => String(p.id)) },
    }),
  },
  "/admin/students/:id/reject": {
    role: "admin",
    id: (f) => f.pending[0]!.id,
    same: () => ({ reason: "Documents missing", ...confirmed }),
    vary: (f, i) => ({
      id: [...f.pending.map((p) => p.id), f.s1.id][i % 5]!,
      body: { reason: `Reason ${i}`, ...(i % 6 === 5 ? {} : confirmed) },
    }),
  },
  "/admin/students/reject": {
    role: "admin",
    same: (f) => ({
      ids: [String(f.pending[0]!.id), String(f.pending[1]!.id)],
      reason: "Documents missing",
      ...confirmed,
    }),
    vary: (f, i) => ({
      body: {
        ids: [...f.pending, f.s1].filter((_, k) => (i + k) % 2 === 0).map((p) => String(p.id)),
        reason: `Reason ${i}`,
        ...confirmed,
      },
    }),
  },
  "/admin/students/advance-semester": {
    role: "admin",
    // The confirmation page's time: a second press of the same page moves nobody again.
    same: (f) => ({
      department: "CSE",
      graduation_year: "2027",
      as_of: f.t.ctx.clock.now().toISOString(),
      ...confirmed,
    }),
    vary: (f, i) => ({
      body: {
        department: ["CSE", "", "ECE"][i % 3]!,
        graduation_year: "2027",
        as_of: f.t.ctx.clock.now().toISOString(),
        ...confirmed,
      },
    }),
  },
  "/admin/sms/:id/resend": {
    role: "admin",
    id: (f) => f.sms.failed,
    same: () => ({}),
    vary: (f, i) => ({ id: [f.sms.failed, f.sms.sent, 999_999][i % 3]!, body: {} }),
  },
  "/admin/sms/cancel": {
    role: "admin",
    same: (f) => ({ reference: `announcement:${f.announcement}`, ...confirmed }),
    vary: (f, i) => ({
      body:
        i % 2
          ? { reference: `announcement:${f.announcement}`, ...confirmed }
          : { ids: [String(f.sms.failed), String(f.sms.sent), String(i)], ...confirmed },
    }),
  },
  "/admin/sms/pause": {
    role: "admin",
    same: () => ({ reason: "Maintenance" }),
    vary: (_f, i) => ({ body: { reason: `Reason ${i}` } }),
  },
  "/admin/sms/resume": {
    role: "admin",
    prepare: async (f) => {
      await pauseSending(f.t.ctx, f.admin.email, "before the burst");
    },
    same: () => ({}),
  },
  "/admin/sms/templates/dlt": {
    role: "admin",
    same: () => ({ entity_id: "1107161234567890123", header: "PLCOFF" }),
    vary: (_f, i) => ({
      body: { entity_id: `11071612345678901${String(i).padStart(2, "0")}`, header: "PLCOFF" },
    }),
  },
  "/admin/sms/templates/:id": {
    role: "admin",
    id: () => "approval",
    same: () => ({
      text: "Dear {name}, account {roll_number} approved. Log in to apply for jobs.",
      base_version: "1",
      dlt_template_id: "",
    }),
    vary: (_f, i) => ({
      id: ["approval", "rejection", "nonexistent"][i % 3]!,
      body: {
        text:
          i % 3 === 1
            ? `Dear {name}, {roll_number} not approved: {reason}. Try ${i}.`
            : `Dear {name}, account {roll_number} approved (${i}).`,
        base_version: "1",
        dlt_template_id: "",
      },
    }),
  },
  "/webhooks/twilio/status": {
    role: "twilio",
    same: (f) => ({ MessageSid: f.sms.sentSid, MessageStatus: "undelivered", ErrorCode: "30003" }),
    vary: (f, i) => ({
      body: {
        MessageSid: i % 4 === 3 ? `SMunknown${i % 2}` : f.sms.sentSid,
        MessageStatus: ["delivered", "undelivered", "failed", "sent"][i % 4]!,
        ErrorCode: "30003",
        ...(i % 5 === 4 ? { _unsigned: "1" } : {}),
      },
    }),
  },
  "/webhooks/twilio/inbound": {
    role: "twilio",
    same: (f) => ({ From: f.s2.phone!, Body: "STOP" }),
    vary: (f, i) => ({
      body: {
        From: [f.s1.phone!, f.s2.phone!, f.s3.phone!][i % 3]!,
        Body: ["STOP", "START", "stop ", "hello"][i % 4]!,
        ...(i % 5 === 4 ? { _unsigned: "1" } : {}),
      },
    }),
  },
};

/** Starts a change of s1's number to `phone` (as the profile form does) and keeps its code. */
async function askPhoneCode(f: Fixture, phone: string): Promise<void> {
  const ctx = f.t.ctx;
  const student = await ctx.db
    .selectFrom("students")
    .select(["id", "roll_number", "full_name", "phone_e164"])
    .where("id", "=", f.s1.id)
    .executeTakeFirstOrThrow();
  await ctx.db
    .transaction()
    .execute((trx) =>
      startPhoneChange(trx, ctx, { id: f.s1UserId, email: f.s1.email }, student, phone),
    );
  const sms = await ctx.db
    .selectFrom("sms_messages")
    .select("body")
    .where("kind", "=", "phone_code")
    .where("to_e164", "=", phone)
    .executeTakeFirstOrThrow();
  f.phoneCode = /\b(\d{6})\b/.exec(sms.body)![1]!;
}

function registration(n: number, email?: string): Body {
  const id = String(n).padStart(3, "0");
  return {
    full_name: `Burst Student ${id}`,
    roll_number: `1BR22CS${id}`,
    email: email ?? `burst${id}@college.test`,
    phone: `+9199000${String(10000 + n)}`,
    department: "CSE",
    semester: "7",
    graduation_year: String(NEXT_YEAR),
    cgpa: "8.1",
    active_backlogs: "0",
    skills: "Java",
    password: "a strong password",
    password_confirm: "a strong password",
    ...(n % 2 ? { resume: { filename: "cv.pdf", data: pdfBytes(`registration ${n}`) } } : {}),
  };
}

function jobForm(overrides: Body): Body {
  return {
    company: "Bosch",
    title: "Graduate Engineer Trainee",
    type: "placement",
    description: "Embedded systems.",
    location: "Bengaluru",
    package_range: "7 LPA",
    official_link: "https://careers.example.com/get",
    apply_by: IN_A_WEEK(),
    intent: "post",
    ...overrides,
  };
}

function academics(overrides: Body): Body {
  return {
    department: "CSE",
    semester: "6",
    graduation_year: String(NEXT_YEAR),
    cgpa: "8",
    active_backlogs: "0",
    ...overrides,
  };
}

/** The terms of an offer (and, for the office's list, its kind and company), confirmed. */
function offerForm(overrides: Record<string, string | string[]> = {}): Body {
  return {
    source: "ppo",
    company: "Amazon",
    role: "Engineer",
    location: "Bengaluru",
    fixed_lpa: "12",
    variable_lpa: "2",
    joining_date: "",
    answer_by: toLocalInput(new Date(Date.now() + 5 * 86_400_000).toISOString()),
    ...confirmed,
    ...overrides,
  };
}

/** A 2027 policy as its form sends it, confirmed, for a year without one. */
function policyForm(overrides: Record<string, string> = {}): Body {
  return {
    max_accepted: "1",
    placed_may_apply: "higher_tier",
    package_multiple: "",
    tier_name_1: "Regular",
    tier_from_1: "0",
    tier_name_2: "Dream",
    tier_from_2: "6",
    block_on_decline: "on",
    base_updated_at: "",
    ...confirmed,
    ...overrides,
  };
}

/**
 * For a route no plan knows yet: an empty body (and the hostile ones) at a real id, as the role
 * its address says. Its name is printed with the figures: it deserves a plan of its own.
 */
function fallbackPlan(url: string): Plan {
  const role: Role = url.startsWith("/admin/")
    ? "admin"
    : url.startsWith("/student/")
      ? "student"
      : url.startsWith("/webhooks/")
        ? "twilio"
        : "anonymous";
  return { role, id: (f) => f.s2.id, same: () => ({}) };
}

// ---------------------------------------------------------------------------------------------
// What the database looks like: counts to compare, and the rules its rows keep

interface Snapshot {
  tables: Map<string, number>;
  audit: Map<string, number>;
  sms: Map<string, number>;
  semesters: Map<number, number | null>;
}

/** The tables of each database, looked up once. */
const tablesOf = new Map<string, string[]>();

async function snapshot(t: TestApp): Promise<Snapshot> {
  const db = t.ctx.db;
  let tableNames = tablesOf.get(t.ctx.dialect);
  if (!tableNames) {
    tableNames = (await db.introspection.getTables())
      .map((table) => table.name)
      // SQLite's full-text shadow tables count index pages, not rows.
      .filter((name) => !/_(data|idx|content|docsize|config)$/.test(name))
      .sort();
    tablesOf.set(t.ctx.dialect, tableNames);
  }
  // One statement: on PostgreSQL every statement is a round trip.
  const counts = await sql<{ name: string; n: number | string }>`${sql.join(
    tableNames.map((name) => sql`select ${name} as name, count(*) as n from ${sql.table(name)}`),
    sql` union all `,
  )}`.execute(db);
  const tables = new Map(counts.rows.map((r) => [r.name, Number(r.n)]));
  const audit = await db
    .selectFrom("audit_log")
    .select(["action", (eb) => eb.fn.countAll<number>().as("n")])
    .groupBy("action")
    .execute();
  const sms = await db
    .selectFrom("sms_messages")
    .select(["kind", (eb) => eb.fn.countAll<number>().as("n")])
    .groupBy("kind")
    .execute();
  const semesters = new Map(
    (await db.selectFrom("students").select(["id", "semester"]).execute()).map((r) => [
      r.id,
      r.semester,
    ]),
  );
  return {
    tables,
    audit: new Map(audit.map((r) => [r.action, Number(r.n)])),
    sms: new Map(sms.map((r) => [r.kind, Number(r.n)])),
    semesters,
  };
}

function deltas(before: Snapshot, after: Snapshot): Map<string, number> {
  const out = new Map<string, number>();
  const add = (prefix: string, a: Map<string, number>, b: Map<string, number>) => {
    for (const key of new Set([...a.keys(), ...b.keys()]))
      out.set(`${prefix}${key}`, (b.get(key) ?? 0) - (a.get(key) ?? 0));
  };
  add("rows of ", before.tables, after.tables);
  add("audit ", before.audit, after.audit);
  add("sms ", before.sms, after.sms);
  return out;
}

/** Every limit this file checks, declared beside the code that takes it. */
function limitSettings(t: TestApp) {
  return {
    login: LOGIN_LIMITS,
    reset: RESET_LIMITS,
    registration: registrationLimits(t.ctx.config),
    phoneCodes: PHONE_CODE_REQUESTS,
  };
}

/** The limits in force: the office's values where it set any, the code's defaults otherwise. */
async function limitsInForce(t: TestApp) {
  const settings = limitSettings(t);
  const resolve = await resolveLimits(
    t.ctx.db,
    Object.values(settings).flatMap((group) =>
      "name" in group
        ? [group as LimitSetting]
        : Object.values(group as Record<string, LimitSetting>),
    ),
  );
  const max = (setting: LimitSetting) => resolve(setting).max;
  return { settings, max, window: (setting: LimitSetting) => resolve(setting).windowSeconds };
}
type Limits = Awaited<ReturnType<typeof limitsInForce>>;

/**
 * A limit's rules, replayed: each kept event must have been allowed by the events kept before it
 * (a released event only made the real count higher, so the replay never blames a right answer).
 */
type Event = {
  id: number;
  kind: LimitEventKind;
  account: string | null;
  address: string | null;
  at: string;
};
type Rule = (prior: Event[], e: Event) => string | null;

function limitRules(limits: Limits): Partial<Record<LimitEventKind, Rule>> {
  const { login, reset, registration, phoneCodes } = limits.settings;
  /** Events before `e` in the setting's window that match on the given fields. */
  const on = (
    prior: Event[],
    e: Event,
    setting: LimitSetting,
    match: { account?: boolean; address?: boolean },
  ) => {
    const since = Date.parse(e.at) - limits.window(setting) * 1000;
    return prior.filter(
      (p) =>
        Date.parse(p.at) > since &&
        (!match.account || p.account === e.account) &&
        (!match.address || p.address === e.address),
    ).length;
  };
  const over = (prior: Event[], e: Event, setting: LimitSetting, by: "account" | "address") =>
    on(prior, e, setting, { [by]: true }) >= limits.max(setting);
  return {
    login_failure: (prior, e) => {
      if (over(prior, e, login.perAddress, "address")) return "failed logins per address";
      if (
        over(prior, e, login.perAccount, "account") &&
        on(prior, e, login.perAccountFromAddress, { account: true, address: true }) >=
          limits.max(login.perAccountFromAddress)
      )
        return "failed logins per account";
      return null;
    },
    reset_request: (prior, e) =>
      over(prior, e, reset.requestsPerAddress, "address")
        ? "reset codes per address"
        : over(prior, e, reset.requestsPerAccount, "account")
          ? "reset codes per email"
          : null,
    reset_code_failure: (prior, e) => {
      if (over(prior, e, reset.wrongCodesPerAddress, "address")) return "wrong codes per address";
      if (
        over(prior, e, reset.wrongCodesPerAccount, "account") &&
        on(prior, e, reset.wrongCodesPerAccountFromAddress, { account: true, address: true }) >=
          limits.max(reset.wrongCodesPerAccountFromAddress)
      )
        return "wrong codes per account";
      return null;
    },
    // One attempt is an event per identity (email with the address, roll number, phone).
    registration: (prior, e) => {
      if (e.address !== null && over(prior, e, registration.perAddress, "address"))
        return "registrations per address";
      const identity = e.account?.split(":")[0];
      const setting =
        identity === "email"
          ? registration.perEmail
          : identity === "roll"
            ? registration.perRollNumber
            : identity === "phone"
              ? registration.perPhone
              : null;
      return setting && over(prior, e, setting, "account") ? `registrations per ${identity}` : null;
    },
    registration_notice: (prior, e) =>
      over(prior, e, registration.noticesPerAccount, "account")
        ? "notices of a registration per account"
        : null,
    phone_code_request: (prior, e) =>
      over(prior, e, phoneCodes, "account") ? "codes for new numbers per account" : null,
  };
}

async function limitBreaks(t: TestApp, limits: Limits): Promise<string[]> {
  const events = await t.ctx.db
    .selectFrom("limit_events")
    .select(["id", "kind", "account", "address", "at"])
    .orderBy("id")
    .execute();
  const rules = limitRules(limits);
  const breaks: string[] = [];
  const seen: Event[] = [];
  for (const e of events) {
    const rule = rules[e.kind];
    if (!rule) figures.limitKindsWithoutRule.add(e.kind);
    const broken = rule?.(
      seen.filter((p) => p.kind === e.kind),
      e,
    );
    if (broken) breaks.push(`limit broken: ${broken} (event ${e.id}, ${e.account} ${e.address})`);
    seen.push(e);
  }
  return breaks;
}

/** SMS kinds of which a student gets one per cause (reference). */
const ONE_PER_CAUSE: readonly string[] = [
  "approval",
  "rejection",
  "job_posted",
  "custom",
  "status_update",
  "application_corrected",
];

/** The rules every row keeps, whatever was sent and however it arrived. */
async function ruleBreaks(t: TestApp, since: { events: number }): Promise<string[]> {
  const db = t.ctx.db;
  const limits = await limitsInForce(t);
  const breaks: string[] = [];
  const now = t.ctx.clock.now();
  const students = new Map(
    (await db.selectFrom("students").selectAll().execute()).map((s) => [s.id, s]),
  );

  // Applications: one per student and job, stages only along the allowed moves.
  const applications = await db.selectFrom("applications").selectAll().execute();
  const pairs = new Set<string>();
  for (const a of applications) {
    const key = `${a.student_id}/${a.job_id}`;
    if (pairs.has(key))
      breaks.push(`two applications of student ${a.student_id} to job ${a.job_id}`);
    pairs.add(key);
  }
  const events = await db.selectFrom("application_events").selectAll().orderBy("id").execute();
  for (const a of applications) {
    const chain = events.filter((e) => e.application_id === a.id);
    const first = chain[0];
    if (!first || first.from_status !== null || first.to_status !== "applied")
      breaks.push(`application ${a.id} does not start at applied`);
    for (let k = 1; k < chain.length; k++) {
      const [prev, next] = [chain[k - 1]!, chain[k]!];
      if (next.from_status !== prev.to_status)
        breaks.push(`application ${a.id}: ${next.from_status} after ${prev.to_status}`);
      if (!next.from_status || !TRANSITIONS[next.from_status].includes(next.to_status))
        breaks.push(`application ${a.id}: move ${next.from_status} -> ${next.to_status}`);
    }
    if (chain.at(-1)?.to_status !== a.status)
      breaks.push(
        `application ${a.id} is ${a.status}, its history ends at ${chain.at(-1)?.to_status}`,
      );
  }
  // Applications made during the bursts: to open jobs the student is eligible for.
  for (const e of events.filter((e) => e.id > since.events && e.to_status === "applied")) {
    const a = applications.find((x) => x.id === e.application_id)!;
    const job = await findJob(t.ctx, a.job_id);
    const student = students.get(a.student_id);
    if (!job || !student) continue;
    const reasons = [...closedReasons(job, now), ...ineligibilityReasons(job.rules, student)];
    if (reasons.length > 0)
      breaks.push(
        `application ${a.id} to job ${a.job_id} outside its rules: ${reasons.join("; ")}`,
      );
  }

  // SMS: none to a student who had opted out (but the warnings that guard their number), job
  // alerts only to eligible students, one approval or rejection per student, no more codes than
  // their limits, and the counts the postings keep match their rows.
  const sms = await db.selectFrom("sms_messages").selectAll().execute();
  const once = new Map<string, number>();
  // The SMS a student may get a few of, as many as their limits allow (all within an hour here).
  const perStudent: Record<string, number> = {
    password_reset: limits.max(limits.settings.reset.requestsPerAccount),
    phone_code: limits.max(limits.settings.phoneCodes),
    registration_attempt: limits.max(limits.settings.registration.noticesPerAccount),
  };
  for (const m of sms) {
    const student = m.student_id === null ? undefined : students.get(m.student_id);
    if (
      student?.sms_opted_out_at &&
      Date.parse(m.created_at) > Date.parse(student.sms_opted_out_at) &&
      !KINDS_SENT_DESPITE_OPT_OUT.includes(m.kind) &&
      !["skipped", "cancelled"].includes(m.status) &&
      m.resend_of === null
    )
      breaks.push(`sms ${m.id} (${m.kind}) ${m.status} to student ${student.id}, who opted out`);
    // One message per cause and student: a decision, a job's alert, an announcement, a status
    // change (one per change). A resend repeats its message on purpose (its dedupe key says so).
    if (ONE_PER_CAUSE.includes(m.kind) && m.resend_of === null) {
      const key = `${m.kind} ${m.reference} ${m.student_id}`;
      once.set(key, (once.get(key) ?? 0) + 1);
    }
    if (m.kind in perStudent && m.student_id !== null && m.resend_of === null) {
      const key = `${m.kind} ${m.student_id}`;
      once.set(key, (once.get(key) ?? 0) + 1);
    }
  }
  for (const [key, n] of once) {
    const [kind, reference] = key.split(" ");
    const max =
      kind === "status_update"
        ? events.filter(
            (e) => `application:${e.application_id}` === reference && e.by_role === "admin",
          ).length
        : (perStudent[kind!] ?? 1);
    if (n > max) breaks.push(`${n} SMS for one cause: ${key}, at most ${max}`);
  }
  for (const job of await db.selectFrom("jobs").selectAll().execute()) {
    const alerts = sms.filter((m) => m.kind === "job_posted" && m.reference === `job:${job.id}`);
    if (alerts.length !== job.alert_sms_count)
      breaks.push(`job ${job.id} counts ${job.alert_sms_count} alerts, has ${alerts.length}`);
    const full = await findJob(t.ctx, job.id);
    for (const m of alerts) {
      const student = m.student_id === null ? undefined : students.get(m.student_id);
      if (
        m.status === "queued" &&
        (!student?.approved_at || !full || !meetsRules(full.rules, student))
      )
        breaks.push(`job alert ${m.id} to student ${m.student_id}, outside job ${job.id}'s rules`);
    }
  }
  for (const a of await db.selectFrom("announcements").selectAll().execute()) {
    const n = sms.filter(
      (m) => m.kind === "custom" && m.reference === `announcement:${a.id}`,
    ).length;
    if (n !== a.sms_count) breaks.push(`announcement ${a.id} counts ${a.sms_count} SMS, has ${n}`);
  }

  // Students: approved by someone, in a semester that exists.
  for (const s of students.values()) {
    if (s.approved_at && s.approved_by === null) breaks.push(`student ${s.id} approved by nobody`);
    if (s.semester !== null && (s.semester < 1 || s.semester > Math.max(LAST_SEMESTER, 12)))
      breaks.push(`student ${s.id} in semester ${s.semester}`);
  }

  // The audit log: each approval, rejection, deletion once; closing and reopening alternate.
  const audit = await db.selectFrom("audit_log").selectAll().orderBy("id").execute();
  const perSubject = new Map<string, number>();
  const toggles = new Map<string, string[]>();
  for (const entry of audit) {
    const details = JSON.parse(entry.details || "{}") as Record<string, unknown>;
    const target =
      details.studentId ?? details.jobId ?? details.announcementId ?? details.messageId ?? "";
    if (
      [
        "student.approve",
        "student.reject",
        "job.delete",
        "announcement.delete",
        "job.post",
        "announcement.post",
        "admin.added",
      ].includes(entry.action)
    ) {
      const key = `${entry.action} ${target || entry.subject}`;
      perSubject.set(key, (perSubject.get(key) ?? 0) + 1);
    }
    if (entry.action === "job.close" || entry.action === "job.reopen") {
      const list = toggles.get(`job ${target}`) ?? [];
      list.push(entry.action);
      toggles.set(`job ${target}`, list);
    }
    if (entry.action === "sms.pause" || entry.action === "sms.resume") {
      const list = toggles.get("sending") ?? [];
      list.push(entry.action);
      toggles.set("sending", list);
    }
  }
  for (const [key, n] of perSubject) if (n > 1) breaks.push(`audit ${key} ${n} times`);
  for (const [what, list] of toggles)
    for (let k = 1; k < list.length; k++)
      if (list[k] === list[k - 1]) breaks.push(`${what}: ${list[k]} twice in a row`);

  // Reset codes: never more tries than allowed, one live code per account, one use each.
  const codes = await db.selectFrom("password_reset_codes").selectAll().execute();
  const live = new Map<number, number>();
  for (const c of codes) {
    if (c.attempts > RESET_CODE_MAX_TRIES)
      breaks.push(`reset code ${c.id} tried ${c.attempts} times`);
    if (c.used_at === null && Date.parse(c.expires_at) > now.getTime())
      live.set(c.user_id, (live.get(c.user_id) ?? 0) + 1);
  }
  for (const [user, n] of live) if (n > 1) breaks.push(`user ${user} has ${n} live reset codes`);
  const used = codes.filter((c) => c.used_at !== null).length;
  const usedAudit = audit.filter((a) => a.action === "password_reset.used").length;
  if (usedAudit !== used) breaks.push(`${usedAudit} reset code uses audited, ${used} codes used`);

  // Changes of number: as for reset codes.
  const changes = await db.selectFrom("phone_changes").selectAll().execute();
  const livePhone = new Map<number, number>();
  for (const c of changes) {
    if (c.attempts > PHONE_CODE_MAX_TRIES)
      breaks.push(`phone change ${c.id} tried ${c.attempts} times`);
    if (c.used_at === null && Date.parse(c.expires_at) > now.getTime())
      livePhone.set(c.student_id, (livePhone.get(c.student_id) ?? 0) + 1);
  }
  for (const [student, n] of livePhone)
    if (n > 1) breaks.push(`student ${student} has ${n} live changes of number`);

  // Template versions: 2, 3, ... without gaps.
  const versions = await db
    .selectFrom("sms_templates")
    .select(["template_id", "version"])
    .execute();
  const byTemplate = new Map<string, number[]>();
  for (const v of versions)
    byTemplate.set(v.template_id, [...(byTemplate.get(v.template_id) ?? []), v.version]);
  for (const [id, list] of byTemplate) {
    const sorted = list.sort((x, y) => x - y);
    if (sorted.some((v, k) => v !== k + 2))
      breaks.push(`template ${id} versions ${sorted.join(",")}`);
  }

  // Accounts: one per email, every student with one.
  const users = await db.selectFrom("users").select(["id", "email"]).execute();
  if (new Set(users.map((u) => u.email)).size !== users.length) breaks.push("an email twice");
  const userIds = new Set(users.map((u) => u.id));
  for (const s of students.values())
    if (!userIds.has(s.user_id)) breaks.push(`student ${s.id} without an account`);

  breaks.push(...(await limitBreaks(t, limits)));
  return breaks;
}

// ---------------------------------------------------------------------------------------------
// The figures for the note

const figures = {
  database: testDialect(),
  burstSize: N,
  routes: [] as string[],
  routesWithoutPlan: [] as string[],
  requests: { identical: 0, varied: 0, sequentialTwin: 0 },
  statuses: {} as Record<string, number>,
  loggedErrors: 0,
  violations: [] as string[],
  /** Limit event kinds seen with no replay rule here: a new limit, worth a rule. */
  limitKindsWithoutRule: new Set<string>(),
  seconds: 0,
};
const startedAt = performance.now();

function record(status: number) {
  figures.statuses[status] = (figures.statuses[status] ?? 0) + 1;
}

// ---------------------------------------------------------------------------------------------

/**
 * An app on a SQLite copy whatever the pass: for the route table, and for the twin that sends the
 * identical requests one after another. One after another, both databases do the same (the tests
 * not marked @both-databases rely on that), and a SQLite copy is made in a few milliseconds where
 * a PostgreSQL copy takes a few hundred on a busy machine. createTestDatabase reads TEST_DB before
 * its first await: the pass's setting is back before anything else runs.
 */
function createSqliteApp(): Promise<TestApp> {
  const pass = process.env.TEST_DB;
  process.env.TEST_DB = "sqlite";
  try {
    return createTestApp(ENV);
  } finally {
    process.env.TEST_DB = pass;
  }
}

/** The route table, read from an app built for nothing else. */
const routes = await (async () => {
  const probe = await createSqliteApp();
  try {
    return probe.app.routeTable
      .filter((r) => r.method !== "GET")
      .map((r) => ({ method: r.method, url: r.url }));
  } finally {
    await probe.close();
  }
})();

function concreteUrl(url: string, id: number | string | undefined): string {
  return url.replace(/:\w+/g, String(id ?? ""));
}

/** The N identical requests: one sender, one body, one URL. */
async function identicalRequests(plan: Plan, f: Fixture, url: string): Promise<Outgoing[]> {
  const [sender] = await senders(f, plan.role, 1);
  const one = await buildRequest(plan, concreteUrl(url, plan.id?.(f)), sender!, plan.same(f));
  return Array.from({ length: N }, () => one);
}

/** N varied requests: valid values that differ, one in five hostile, one in ten broken. */
async function variedRequests(plan: Plan, f: Fixture, url: string): Promise<Outgoing[]> {
  const pool = await senders(f, plan.role, plan.pool ?? 3);
  const out: Outgoing[] = [];
  for (let i = 0; i < N; i++) {
    const valid = plan.vary?.(f, i) ?? { id: plan.id?.(f), body: plan.same(f) };
    const id = valid.id ?? plan.id?.(f);
    const body: Body | { broken: number } =
      i % 10 === 9 ? { broken: i } : i % 5 === 4 ? hostileBody(valid.body, i) : valid.body;
    out.push(await buildRequest(plan, concreteUrl(url, id), pool[i % pool.length]!, body));
  }
  return out;
}

async function send(t: TestApp, outgoing: Outgoing[], at: "once" | "in turn") {
  const answer = async (o: Outgoing) => {
    const response: LightMyRequestResponse = await t.app.inject(o.options);
    return { status: response.statusCode, address: o.address, url: String(o.options.url) };
  };
  if (at === "once") return Promise.all(outgoing.map(answer));
  const out = [];
  for (const o of outgoing) out.push(await answer(o));
  return out;
}

describe(`concurrent hostile requests (${N} at once) at every state-changing route`, () => {
  it("finds the state-changing routes in the route table", () => {
    expect(routes.length).toBeGreaterThanOrEqual(30);
    expect(routes.map((r) => r.url)).toEqual(expect.arrayContaining(Object.keys(PLANS)));
  });

  for (const route of routes) {
    it(`${route.method} ${route.url}`, async () => {
      const plan = PLANS[route.url] ?? fallbackPlan(route.url);
      if (!PLANS[route.url]) figures.routesWithoutPlan.push(`${route.method} ${route.url}`);
      figures.routes.push(`${route.method} ${route.url}`);
      const violations: string[] = [];
      const logged: string[] = [];
      const previous = console.error;
      console.error = (...args: unknown[]) => {
        logged.push(format(...args));
        previous(...args);
      };
      try {
        // The twin: the same identical requests, one after another.
        let sequential: Map<string, number> | null = null;
        if (!plan.paced) {
          const twin = await createSqliteApp();
          try {
            const f = await fixture(twin);
            await plan.prepare?.(f);
            const requests = await identicalRequests(plan, f, route.url);
            const before = await snapshot(twin);
            await send(twin, requests, "in turn");
            figures.requests.sequentialTwin += requests.length;
            sequential = deltas(before, await snapshot(twin));
          } finally {
            await twin.close();
          }
        }

        const t = await createTestApp(ENV);
        try {
          const f = await fixture(t);
          await plan.prepare?.(f);
          const mark = async () => ({
            events: Number(
              (
                await t.ctx.db
                  .selectFrom("application_events")
                  .select((eb) => eb.fn.max("id").as("id"))
                  .executeTakeFirst()
              )?.id ?? 0,
            ),
          });
          const fixtureBreaks = await ruleBreaks(t, await mark());
          expect(fixtureBreaks, "the scene itself").toEqual([]);

          for (const kind of ["identical", "varied"] as const) {
            if (kind === "varied") await plan.after?.(f);
            const requests =
              kind === "identical"
                ? await identicalRequests(plan, f, route.url)
                : await variedRequests(plan, f, route.url);
            const since = await mark();
            const before = await snapshot(t);
            const responses = await send(t, requests, "once");
            figures.requests[kind] += responses.length;
            for (const r of responses) {
              record(r.status);
              if (r.status >= 500) violations.push(`${kind}: ${r.url} answered ${r.status}`);
            }
            const after = await snapshot(t);
            const burst: Burst = { kind, responses };
            for (const b of await ruleBreaks(t, since)) violations.push(`${kind}: ${b}`);
            const limits = await limitsInForce(t);
            for (const b of plan.check?.(f, burst, limits) ?? []) violations.push(`${kind}: ${b}`);
            if (kind === "identical") {
              if (sequential) {
                // Limit events count attempts, not changes: the limits' own rule checks them
                // (the twin's replays lose their session once a password changes).
                for (const [what, n] of deltas(before, after))
                  if (what !== "rows of limit_events" && n > (sequential.get(what) ?? 0))
                    violations.push(
                      `identical: ${what} +${n} at once, +${sequential.get(what) ?? 0} one after another`,
                    );
              }
              // The batch moved up at most once per press of the same confirmation page.
              if (route.url === "/admin/students/advance-semester")
                for (const [id, was] of before.semesters) {
                  const moved = (after.semesters.get(id) ?? 0) - (was ?? 0);
                  if (was !== null && moved > 1)
                    violations.push(`identical: student ${id} moved ${moved} semesters`);
                }
            }
          }
        } finally {
          await t.close();
        }
      } finally {
        console.error = previous;
        figures.loggedErrors += logged.length;
        for (const line of logged) violations.push(`logged: ${line.slice(0, 300)}`);
        figures.violations.push(...violations.map((v) => `${route.method} ${route.url}: ${v}`));
      }
      expect(violations).toEqual([]);
    });
  }

  it("covered every state-changing route", () => {
    expect(figures.routes).toHaveLength(routes.length);
  });
});

afterAll(() => {
  figures.seconds = Math.round((performance.now() - startedAt) / 100) / 10;
  const total = figures.requests.identical + figures.requests.varied;
  console.log(
    `hostile-concurrent [${figures.database}]: ${figures.routes.length} routes, ${total} requests in bursts of ${N} (+${figures.requests.sequentialTwin} one after another on twins), answers ${JSON.stringify(figures.statuses)}, ${figures.violations.length} violations, ${figures.loggedErrors} logged errors, ${figures.seconds} s`,
  );
  mkdirSync("test-results", { recursive: true });
  writeFileSync(
    `test-results/hostile-concurrent-${figures.database}.json`,
    `${JSON.stringify({ ...figures, limitKindsWithoutRule: [...figures.limitKindsWithoutRule] }, null, 2)}\n`,
  );
});
