// @both-databases: PostgreSQL refuses what SQLite stores (NUL bytes, out-of-range numbers): no 5xx on either.
import fc from "fast-check";
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from "fastify";
import twilio from "twilio";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createAdmin,
  createStudent,
  createTestApp,
  postJob,
  type TestApp,
} from "#test/support/app.ts";
import { pdfBytes } from "#test/support/client.ts";
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_FROM } from "#test/support/sms.ts";

/**
 * The hostile-input suite: fast-check generates hostile values for every field of every form, every
 * query parameter and path id of every page, and every parameter of Twilio's webhooks, and sends
 * them through the real app (session, CSRF, parsers, validation, database) on both databases.
 * Nothing may answer 5xx, nothing stored may break its rules, and the server must still answer.
 *
 * The route table drives it (as src/web/security.test.ts does): a new route is covered without
 * being listed here, and its form fields are found by reading the app's own pages.
 */

const PUBLIC = "https://portal.college.test";
/** Requests per route and role; `HOSTILE_RUNS=500 npx vitest run test/hostile.test.ts` digs deeper. */
const RUNS = Number(process.env.HOSTILE_RUNS ?? 25);
/**
 * The same requests every run, so CI is repeatable; `HOSTILE_SEED=random` explores new ones (a
 * failure prints the seed and the shrunk request that reproduces it).
 */
const SEED =
  process.env.HOSTILE_SEED === "random"
    ? Math.floor(Math.random() * 2 ** 31)
    : Number(process.env.HOSTILE_SEED ?? 20261202);
const runs = (numRuns: number) => ({ numRuns, seed: SEED });

/** A browser-like client with its session cookie and a CSRF token read once from a page. */
class HostileClient {
  private cookies = new Map<string, string>();
  private token: string | null = null;
  constructor(private readonly app: FastifyInstance) {}

  private get cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("; ");
  }

  async send(options: InjectOptions): Promise<LightMyRequestResponse> {
    requestsSent += 1;
    const response = await this.app.inject({
      ...options,
      headers: { ...(options.headers ?? {}), cookie: this.cookieHeader },
    });
    for (const cookie of response.cookies) {
      if (cookie.value === "" || (cookie.maxAge !== undefined && cookie.maxAge <= 0))
        this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
    return response;
  }

  async csrf(): Promise<string> {
    if (this.token) return this.token;
    const page = await this.send({ method: "GET", url: "/register" });
    const token = /name="_csrf" value="([^"]+)"/.exec(page.body)?.[1];
    if (!token) throw new Error("no CSRF token on /register");
    this.token = token;
    return token;
  }

  async login(email: string, password: string) {
    const body = new URLSearchParams({ _csrf: await this.csrf(), email, password });
    const response = await this.send({
      method: "POST",
      url: "/login",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: body.toString(),
    });
    if (response.statusCode !== 303) throw new Error(`login as ${email}: ${response.statusCode}`);
    // The session was regenerated at login: its CSRF secret is new.
    this.token = null;
    return this;
  }

  isSignedIn() {
    return this.cookies.has("portal_session");
  }
}

// ---------------------------------------------------------------------------------------------
// Hostile values

/** Values that have broken web apps before: number edge cases, dates that do not exist, markup. */
const NASTY = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\u0007\u001b[31m",
  "\r\n",
  "1e309",
  "-1e309",
  "Infinity",
  "-Infinity",
  "NaN",
  "-1",
  "0",
  "1.5",
  "0x0A",
  "1e1",
  "08",
  "9".repeat(400),
  "-9".repeat(40),
  "2147483648",
  "9007199254740993",
  "2027-02-30T10:00",
  "2027-13-01T10:00",
  "0000-01-01T00:00",
  "9999-12-31T23:59",
  "2027-01-01T25:61",
  "../../../../etc/passwd",
  "..%2F..%2Fetc%2Fpasswd",
  "%00",
  "<script>alert(1)</script>",
  '"><img src=x onerror=alert(1)>',
  "' OR '1'='1' --",
  "'; DROP TABLE students; --",
  '=HYPERLINK("http://evil")',
  "\uD800",
  "\uFFFE",
  "\u202Eevil",
  "😀".repeat(300),
  "x".repeat(20_000),
  "true",
  "on",
  "[]",
  "{}",
  "null",
  "undefined",
  "__proto__",
  "constructor",
  "+919876543210",
  "+15005550001",
  "+1",
  "applied",
  "shortlisted",
  "selected",
  "withdrawn",
  "CSE",
  "placement",
];

const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 200 }) },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.double().map(String) },
);

/** One field's value: a string, or the same key repeated. */
const hostileValue: fc.Arbitrary<string | string[]> = fc.oneof(
  { weight: 5, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.array(hostileString, { minLength: 2, maxLength: 4 }) },
);

/** Keys no form has, and keys that try to reach an object's prototype. */
const strayKey = fc.oneof(
  fc.constantFrom("__proto__", "constructor", "prototype", "id", "role", "status", "user_id"),
  fc.string({ minLength: 1, maxLength: 12 }),
);

/** A form body: the form's own fields (each kept, dropped or made hostile) plus stray keys. */
function hostileForm(fields: string[]): fc.Arbitrary<Record<string, string | string[]>> {
  const own = fc.record(Object.fromEntries(fields.map((f) => [f, hostileValue])), {
    requiredKeys: [],
  });
  const stray = fc.dictionary(strayKey, hostileValue, { maxKeys: 2 });
  return fc
    .tuple(own, stray)
    .map(([a, b]) => ({ ...b, ...a }) as Record<string, string | string[]>);
}

let unique = 0;
/**
 * A value that passes validation, by field name, so that one hostile field among valid ones gets
 * as far as the database: that is where a value outside its rules would be stored.
 */
function validValue(field: string, formDefault: string | undefined): string {
  unique += 1;
  const n = String(unique).padStart(4, "0");
  const inAWeek = new Date(Date.now() + 7 * 86_400_000 + 5.5 * 3_600_000)
    .toISOString()
    .slice(0, 16);
  const known: Record<string, string> = {
    full_name: `Hostile Tester ${n}`,
    roll_number: `1HT22CS${n}`,
    email: `hostile${n}@college.test`,
    phone: `+91987650${n}`.slice(0, 13),
    password: "correct horse battery",
    password_confirm: "correct horse battery",
    current_password: "correct horse battery",
    new_password: "correct horse battery 2",
    new_password_confirm: "correct horse battery 2",
    department: "CSE",
    semester: "7",
    graduation_year: "2027",
    cgpa: "8.2",
    active_backlogs: "0",
    skills: "Java, SQL",
    company: `Hostile Co ${n}`,
    title: `Hostile title ${n}`,
    type: "placement",
    description: "Line one\r\nLine two",
    location: "Mysuru",
    package_range: "6 LPA",
    official_link: "https://example.com/job",
    apply_by: inAWeek,
    min_cgpa: "6.5",
    max_backlogs: "1",
    message: "A hostile but valid message.",
    reason: "Documents missing",
    status: "shortlisted",
    intent: "post",
  };
  return known[field] ?? formDefault ?? "1";
}

/** The form filled in validly, then one or two of its fields made hostile (or dropped). */
function mostlyValidForm(
  fields: string[],
  defaults: Map<string, string>,
): fc.Arbitrary<Record<string, string | string[]>> {
  if (fields.length === 0) return hostileForm(fields);
  return fc
    .tuple(
      fc.subarray(fields, { minLength: 1, maxLength: Math.min(2, fields.length) }),
      fc.array(fc.option(hostileValue, { freq: 6 }), { minLength: 2, maxLength: 2 }),
    )
    .map(([hostileFields, values]) => {
      const body: Record<string, string | string[]> = {};
      for (const f of fields) body[f] = validValue(f, defaults.get(f));
      hostileFields.forEach((f, i) => {
        const value = values[i];
        if (value === null || value === undefined) delete body[f];
        else body[f] = value;
      });
      return body;
    });
}

/** A path id: one that exists, or one that no database column could hold. */
function hostileId(existing: number[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...existing.map(String)) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        "0",
        "-1",
        "1.5",
        "1e3",
        "2147483648",
        "9".repeat(400),
        "abc",
        "%00",
        "..%2F..",
        "%F0%9F%98%80",
        "1%20OR%201=1",
      ),
    },
    { weight: 1, arbitrary: fc.integer().map(String) },
  );
}

function encodeForm(body: Record<string, string | string[]>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(body)) for (const one of [v].flat()) params.append(k, one);
  return params.toString();
}

async function encodeMultipart(
  body: Record<string, string | string[]>,
  file: { name: string; data: Uint8Array; type: string } | null,
): Promise<{ payload: Buffer; contentType: string }> {
  const form = new FormData();
  for (const [k, v] of Object.entries(body)) for (const one of [v].flat()) form.append(k, one);
  if (file)
    form.append("resume", new Blob([new Uint8Array(file.data)], { type: file.type }), file.name);
  const request = new Request("http://localhost/", { method: "POST", body: form });
  return {
    payload: Buffer.from(await request.arrayBuffer()),
    contentType: request.headers.get("content-type")!,
  };
}

/** A file for an upload field: a real PDF, something pretending to be one, or nothing at all. */
const hostileFile = fc.oneof(
  fc.constant(null),
  fc.record({
    name: fc.constantFrom("cv.pdf", "../../../etc/passwd", "a\u0000.pdf", "x".repeat(300), ""),
    data: fc.oneof(
      fc.constant(new Uint8Array(pdfBytes("hostile"))),
      fc.uint8Array({ maxLength: 64 }),
      fc.constant(new Uint8Array(Buffer.from("<html><script>alert(1)</script>"))),
    ),
    type: fc.constantFrom("application/pdf", "text/html", "application/octet-stream"),
  }),
);

/** Bodies that no parser should choke on: wrong types, broken multipart, a body that lies. */
const brokenBody = fc.oneof(
  fc.record({
    contentType: fc.constantFrom(
      "multipart/form-data",
      "multipart/form-data; boundary=",
      "multipart/form-data; boundary=XYZ",
      "application/x-www-form-urlencoded",
      "application/json",
      "text/plain",
      "application/xml",
    ),
    payload: fc.oneof(
      fc.constantFrom(
        '--XYZ\r\nContent-Disposition: form-data; name="full_name"\r\n\r\nAsha',
        '--XYZ\r\nContent-Disposition: form-data; name="resume"; filename="a.pdf"\r\n\r\n%PDF-',
        '{"email":',
        '{"__proto__":{"admin":true}}',
        "a=1&a=2&a[]=3&a[b]=4",
        "%",
        "%E0%A4%A",
      ),
      fc.string({ unit: "binary", maxLength: 200 }),
    ),
  }),
);

// ---------------------------------------------------------------------------------------------
// The app's own forms, read from its pages

interface FormInfo {
  fields: Set<string>;
  /** The value each field has when the page is first shown (hidden ids, selected options). */
  defaults: Map<string, string>;
  multipart: boolean;
}

/** Every `<form method="post">` on a page: its action and the names of its controls. */
function formsOn(
  html: string,
): { action: string; fields: string[]; defaults: [string, string][]; multipart: boolean }[] {
  const forms: ReturnType<typeof formsOn> = [];
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    const attributes = match[1]!;
    if (!/method="post"/i.test(attributes)) continue;
    const action = /action="([^"]*)"/.exec(attributes)?.[1]?.replaceAll("&amp;", "&") ?? "";
    const fields = [
      ...match[2]!.matchAll(/<(?:input|select|textarea|button)\b[^>]*\bname="([^"]+)"/g),
    ]
      .map((m) => m[1]!)
      .filter((name) => name !== "_csrf");
    const defaults = [
      ...match[2]!.matchAll(/<input\b(?=[^>]*\bname="([^"]+)")(?=[^>]*\bvalue="([^"]*)")[^>]*>/g),
    ]
      .filter((m) => m[1] !== "_csrf")
      .map((m) => [m[1]!, m[2]!.replaceAll("&amp;", "&")] as [string, string]);
    forms.push({ action, fields, defaults, multipart: /multipart\/form-data/.test(attributes) });
  }
  return forms;
}

/** The route pattern a concrete URL belongs to ("/admin/jobs/12" is "/admin/jobs/:id"). */
function patternOf(app: FastifyInstance, url: string): string | null {
  const path = url.split("?")[0]!;
  for (const route of app.routeTable) {
    if (route.method !== "POST") continue;
    const regex = new RegExp(`^${route.url.replace(/:\w+/g, "[^/]+")}$`);
    if (regex.test(path)) return route.url;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// The rules every stored row keeps, whatever was sent

/** Control characters a text may not keep: all of them in a line, all but tab and newlines in a text. */
const isControl = (code: number) => code < 0x20 || code === 0x7f;
const CONTROL_IN_LINE = { test: (s: string) => [...s].some((c) => isControl(c.charCodeAt(0))) };
const CONTROL = {
  test: (s: string) => [...s].some((c) => isControl(c.charCodeAt(0)) && !"\t\n\r".includes(c)),
};

async function storedRuleBreaks(t: TestApp): Promise<string[]> {
  const db = t.ctx.db;
  const breaks: string[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) breaks.push(what);
  };
  for (const s of await db.selectFrom("students").selectAll().execute()) {
    const who = `student ${s.id}`;
    check(!CONTROL_IN_LINE.test(s.full_name) && s.full_name.trim() !== "", `${who} full_name`);
    check(!CONTROL_IN_LINE.test(s.roll_number) && s.roll_number.trim() !== "", `${who} roll`);
    check(/^\+[1-9]\d{6,14}$/.test(s.phone_e164), `${who} phone ${s.phone_e164}`);
    check(Number.isFinite(Number(s.cgpa)) && s.cgpa >= 0 && s.cgpa <= 10, `${who} cgpa ${s.cgpa}`);
    check(Number.isInteger(s.active_backlogs) && s.active_backlogs >= 0, `${who} backlogs`);
    check(
      Number.isInteger(s.graduation_year) && s.graduation_year > 1990 && s.graduation_year < 2100,
      `${who} graduation_year ${s.graduation_year}`,
    );
    check(
      s.semester === null || (Number.isInteger(s.semester) && s.semester >= 1 && s.semester <= 12),
      `${who} semester ${s.semester}`,
    );
    check(!CONTROL.test(s.skills), `${who} skills`);
  }
  for (const u of await db.selectFrom("users").selectAll().execute()) {
    check(u.email === u.email.toLowerCase() && /^[^\s@]+@[^\s@]+$/.test(u.email), `user ${u.id}`);
    check(u.password_hash.startsWith("$argon2id$"), `user ${u.id} hash`);
  }
  for (const j of await db.selectFrom("jobs").selectAll().execute()) {
    const what = `job ${j.id}`;
    for (const field of ["company", "title", "location", "package_range"] as const)
      check(!CONTROL_IN_LINE.test(j[field] ?? ""), `${what} ${field}`);
    check(!CONTROL.test(j.description ?? ""), `${what} description`);
    const applyBy = new Date(j.apply_by as unknown as string);
    check(!Number.isNaN(applyBy.getTime()), `${what} apply_by ${j.apply_by}`);
    check(
      j.min_cgpa === null || (Number(j.min_cgpa) >= 0 && Number(j.min_cgpa) <= 10),
      `${what} min_cgpa ${j.min_cgpa}`,
    );
    check(
      j.max_backlogs === null || (Number.isInteger(j.max_backlogs) && j.max_backlogs >= 0),
      `${what} max_backlogs ${j.max_backlogs}`,
    );
    check(j.official_link === null || /^https?:\/\//.test(j.official_link), `${what} link`);
  }
  for (const a of await db.selectFrom("announcements").selectAll().execute()) {
    check(!CONTROL_IN_LINE.test(a.title) && a.title.trim() !== "", `announcement ${a.id} title`);
    check(!CONTROL.test(a.message), `announcement ${a.id} message`);
  }
  const statuses = ["applied", "shortlisted", "interview", "selected", "rejected", "withdrawn"];
  for (const a of await db.selectFrom("applications").selectAll().execute())
    check(statuses.includes(a.status), `application ${a.id} status ${a.status}`);
  for (const m of await db.selectFrom("sms_messages").selectAll().execute())
    check(/^\+[1-9]\d{6,14}$/.test(m.to_e164), `sms ${m.id} to ${m.to_e164}`);
  return breaks;
}

// ---------------------------------------------------------------------------------------------

let t: TestApp;
let clients: { anonymous: HostileClient; student: HostileClient; admin: HostileClient };
let ids: number[];
const forms = new Map<string, FormInfo>();
const fiveHundreds: string[] = [];
let requestsSent = 0;

/** Sends one request and remembers any 5xx with what caused it (shrunk by fast-check). */
async function expectNo5xx(client: HostileClient, options: InjectOptions): Promise<void> {
  const response = await client.send(options);
  if (response.statusCode >= 500) {
    const sent = typeof options.payload === "string" ? options.payload.slice(0, 300) : "";
    fiveHundreds.push(`${options.method} ${options.url} ${sent} -> ${response.statusCode}`);
  }
  expect(response.statusCode, `${options.method} ${options.url}`).toBeLessThan(500);
}

function clientFor(url: string) {
  if (url.startsWith("/admin")) return clients.admin;
  if (url.startsWith("/student")) return clients.student;
  return clients.anonymous;
}

beforeAll(async () => {
  t = await createTestApp({
    SMS_BACKEND: "twilio",
    // Nothing listens there, and no dispatcher runs in this suite: messages stay queued.
    TWILIO_API_URL: "http://127.0.0.1:9",
    TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
    TWILIO_PHONE_NUMBER: TEST_FROM,
    PUBLIC_BASE_URL: PUBLIC,
  });
  const admin = await createAdmin(t.ctx);
  const student = await createStudent(t.ctx, { approved: true });
  const pending = await createStudent(t.ctx);
  const job = await postJob(t.ctx, {}, admin);
  const { applyToJob } = await import("#src/applications/service.ts");
  await applyToJob(t.ctx, student.id, job.id).catch(() => {});
  ids = [student.id, pending.id, job.id, 1, 2];

  clients = {
    anonymous: new HostileClient(t.app),
    student: await new HostileClient(t.app).login(student.email, student.password),
    admin: await new HostileClient(t.app).login(admin.email, admin.password),
  };

  // Read every page as each kind of visitor and note the forms it offers.
  for (const client of Object.values(clients)) {
    for (const route of t.app.routeTable.filter((r) => r.method === "GET")) {
      for (const id of ids.slice(0, 3)) {
        const page = await client.send({
          method: "GET",
          url: route.url.replace(/:\w+/g, String(id)),
        });
        for (const form of formsOn(page.body)) {
          const pattern = patternOf(t.app, form.action);
          if (!pattern) continue;
          const info = forms.get(pattern) ?? {
            fields: new Set(),
            defaults: new Map(),
            multipart: false,
          };
          for (const f of form.fields) info.fields.add(f);
          for (const [k, v] of form.defaults) if (!info.defaults.has(k)) info.defaults.set(k, v);
          info.multipart ||= form.multipart;
          forms.set(pattern, info);
        }
      }
    }
  }
});

afterAll(async () => {
  await t?.close();
});

describe("hostile input", () => {
  it("finds the forms of the app's own pages", () => {
    // The discovery itself must work, or the suite below would test nothing.
    expect(forms.get("/register")?.multipart).toBe(true);
    expect([...(forms.get("/register")?.fields ?? [])]).toEqual(
      expect.arrayContaining(["full_name", "email", "phone", "cgpa"]),
    );
    expect([...(forms.get("/admin/jobs/new")?.fields ?? [])]).toEqual(
      expect.arrayContaining(["company", "apply_by", "min_cgpa"]),
    );
    expect(forms.size).toBeGreaterThanOrEqual(10);
  });

  it("answers no 5xx to hostile query strings and path ids on every page", async () => {
    const gets = t.app.routeTable.filter((r) => r.method === "GET");
    const queryKeys = fc.constantFrom(
      "page",
      "status",
      "q",
      "sort",
      "dir",
      "department",
      "graduation_year",
      "year",
      "semester",
      "company",
      "min_cgpa",
      "eligible",
      "kind",
      "next",
      "job",
      "from",
      "to",
    );
    for (const route of gets) {
      await fc.assert(
        fc.asyncProperty(
          hostileId(ids),
          fc.dictionary(fc.oneof(queryKeys, strayKey), hostileValue, { maxKeys: 4 }),
          async (id, query) => {
            const path = route.url.replace(/:\w+/g, id);
            const qs = encodeForm(query);
            await expectNo5xx(clientFor(route.url), {
              method: "GET",
              url: qs ? `${path}?${qs}` : path,
            });
          },
        ),
        runs(RUNS),
      );
    }
  });

  it("answers no 5xx to hostile values in every field of every form", async () => {
    const posts = t.app.routeTable.filter(
      (r) => r.method === "POST" && r.csrf && r.url !== "/logout",
    );
    // Student routes first: admin actions (reject, delete) may end the student's session.
    posts.sort((a, b) => Number(a.url.startsWith("/admin")) - Number(b.url.startsWith("/admin")));
    for (const route of posts) {
      const info = forms.get(route.url) ?? {
        fields: new Set<string>(),
        defaults: new Map<string, string>(),
        multipart: false,
      };
      const fields = [...info.fields];
      const client = clientFor(route.url);
      await fc.assert(
        fc.asyncProperty(
          hostileId(ids),
          fc.oneof(hostileForm(fields), mostlyValidForm(fields, info.defaults)),
          hostileFile,
          async (id, body, file) => {
            const url = route.url.replace(/:\w+/g, id);
            const withToken = { ...body, _csrf: await client.csrf() };
            if (info.multipart) {
              const { payload, contentType } = await encodeMultipart(withToken, file);
              await expectNo5xx(client, {
                method: "POST",
                url,
                headers: { "content-type": contentType },
                payload,
              });
            } else {
              await expectNo5xx(client, {
                method: "POST",
                url,
                headers: { "content-type": "application/x-www-form-urlencoded" },
                payload: encodeForm(withToken),
              });
            }
          },
        ),
        runs(RUNS),
      );
    }
  });

  it("answers no 5xx to broken bodies on every route that takes one", async () => {
    const posts = t.app.routeTable.filter((r) => r.method === "POST" && r.url !== "/logout");
    for (const route of posts) {
      await fc.assert(
        fc.asyncProperty(hostileId(ids), brokenBody, async (id, body) => {
          await expectNo5xx(clientFor(route.url), {
            method: "POST",
            url: route.url.replace(/:\w+/g, id),
            headers: { "content-type": body.contentType },
            payload: body.payload,
          });
        }),
        runs(RUNS),
      );
    }
  });

  it("answers no 5xx to hostile, correctly signed Twilio webhooks", async () => {
    const webhooks = t.app.routeTable.filter((r) => !r.csrf);
    expect(webhooks.length).toBeGreaterThanOrEqual(2);
    const params = [
      "MessageSid",
      "MessageStatus",
      "ErrorCode",
      "ErrorMessage",
      "From",
      "To",
      "Body",
      "AccountSid",
      "SmsSid",
      "OptOutType",
    ];
    for (const route of webhooks) {
      await fc.assert(
        fc.asyncProperty(hostileForm(params), fc.boolean(), async (body, signed) => {
          const flat: Record<string, string | string[]> = body;
          const headers: Record<string, string> = {
            "content-type": "application/x-www-form-urlencoded",
          };
          if (signed)
            headers["x-twilio-signature"] = twilio.getExpectedTwilioSignature(
              TEST_AUTH_TOKEN,
              `${PUBLIC}${route.url}`,
              flat as Record<string, string>,
            );
          const response = await clients.anonymous.send({
            method: "POST",
            url: route.url,
            headers,
            payload: encodeForm(body),
          });
          expect(response.statusCode, `${route.url} ${encodeForm(body)}`).toBeLessThan(500);
          if (!signed) expect(response.statusCode).toBe(403);
        }),
        runs(RUNS * 4),
      );
    }
  });

  it("stores nothing outside its rules, and the server still answers", async () => {
    // The bar: about 2,000 hostile requests, none answered with a 5xx.
    console.info(`hostile suite: ${requestsSent} requests, ${fiveHundreds.length} answered 5xx`);
    expect(requestsSent).toBeGreaterThanOrEqual(RUNS >= 25 ? 2000 : 0);
    expect(await storedRuleBreaks(t)).toEqual([]);
    expect(fiveHundreds).toEqual([]);
    const health = await clients.anonymous.send({ method: "GET", url: "/healthz" });
    expect(health.statusCode).toBe(200);
    // The signed-in admin still works after everything it was sent.
    const page = await clients.admin.send({ method: "GET", url: "/admin/students?status=pending" });
    expect(page.statusCode).toBe(200);
  });
});
