import { connect, type Socket } from "node:net";
import twilio from "twilio";
import { describe, expect, it } from "vitest";
import { createStudent, createTestApp, useTestApp } from "#test/support/app.ts";
import { loginAs, pdfBytes, TestClient } from "#test/support/client.ts";
import { TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_FROM, waitFor } from "#test/support/sms.ts";

const PUBLIC = "https://portal.college.test";

const t = useTestApp({
  SMS_BACKEND: "twilio",
  // Nothing listens there, and no dispatcher runs here: messages stay queued.
  TWILIO_API_URL: "http://127.0.0.1:9",
  TWILIO_ACCOUNT_SID: TEST_ACCOUNT_SID,
  TWILIO_AUTH_TOKEN: TEST_AUTH_TOKEN,
  TWILIO_PHONE_NUMBER: TEST_FROM,
  PUBLIC_BASE_URL: PUBLIC,
  // One file read at a time, a further one turned away after a second: the turns test sees both.
  UPLOADS_AT_ONCE: "1",
  UPLOAD_WAIT_SECONDS: "1",
});

const BOUNDARY = "----portal-test-boundary";

/** The start of a multipart body: its text fields, then a file part's header (no end). */
function multipartStart(fields: Record<string, string>, file = "resume"): Buffer {
  let text = "";
  for (const [name, value] of Object.entries(fields))
    text += `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  text += `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${file}"; filename="cv.pdf"\r\nContent-Type: application/pdf\r\n\r\n`;
  return Buffer.from(text);
}

/** A whole multipart body as a browser sends it: fields, a file, the closing boundary. */
function multipartBody(fields: Record<string, string>, file: Buffer): Buffer {
  return Buffer.concat([multipartStart(fields), file, Buffer.from(`\r\n--${BOUNDARY}--\r\n`)]);
}

/**
 * A request written by hand over a socket, so the test decides when (and whether) its body ends:
 * an answer that arrives while the body is still being sent was given without reading it whole.
 */
class RawRequest {
  private received = "";
  private readonly socket: Socket;
  private readonly connected: Promise<void>;

  constructor(port: number) {
    this.socket = connect(port, "127.0.0.1");
    this.socket.setEncoding("latin1");
    this.socket.on("data", (chunk: string) => {
      this.received += chunk;
    });
    // A reset after the answer is not this test's concern; the answer is.
    this.socket.on("error", () => {});
    this.connected = new Promise((resolve) => this.socket.once("connect", () => resolve()));
  }

  async write(data: string | Buffer): Promise<void> {
    await this.connected;
    await new Promise<void>((resolve, reject) =>
      this.socket.write(data, (error) => (error ? reject(error) : resolve())),
    );
  }

  /** The answers received so far, once `pattern` is among them (or fails after `timeoutMs`). */
  async answer(pattern: RegExp, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.received)) {
      if (Date.now() > deadline)
        throw new Error(`no answer matching ${pattern} within ${timeoutMs} ms: "${this.received}"`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.received;
  }

  close(): void {
    this.socket.destroy();
  }
}

async function listen(): Promise<number> {
  await t.app.listen({ port: 0, host: "127.0.0.1" });
  const address = t.app.server.address();
  if (!address || typeof address === "string") throw new Error("not listening");
  return address.port;
}

/** The head of a POST whose body says it is `length` bytes of multipart. */
function postHead(url: string, length: number, cookie = ""): string {
  return [
    `POST ${url} HTTP/1.1`,
    "Host: 127.0.0.1",
    `Content-Type: multipart/form-data; boundary=${BOUNDARY}`,
    `Content-Length: ${length}`,
    ...(cookie ? [`Cookie: ${cookie}`] : []),
    "",
    "",
  ].join("\r\n");
}

const MB = 1024 * 1024;

describe("multipart bodies only where a route takes a file", () => {
  it("declares the upload routes in the route table: registration, the student's profile, an offer's letter", () => {
    const uploads = t.app.routeTable.filter((r) => r.upload).map((r) => `${r.method} ${r.url}`);
    expect(uploads.sort()).toEqual([
      "POST /admin/offers/:id/letter",
      "POST /register",
      "POST /student/profile",
    ]);
  });

  it("refuses a multipart body on every other POST route with a 415 page", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const client = await loginAs(t.app, student.email, student.password);
    const posts = t.app.routeTable.filter((r) => r.method === "POST" && !r.upload);
    expect(posts.length).toBeGreaterThanOrEqual(20);
    for (const route of posts) {
      const response = await client.postMultipart(route.url.replace(/:\w+/g, "1"), {
        note: "x",
        resume: { filename: "cv.pdf", data: Buffer.alloc(MB, 0x20) },
      });
      expect(response.statusCode, route.url).toBe(415);
      expect(response.headers["content-type"]).toContain("text/html");
      expect(response.body, route.url).toContain("This form does not take files");
    }
  });

  it("does not log in from a multipart login form, nor count it as a failed login", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const client = new TestClient(t.app);
    const response = await client.postMultipart("/login", {
      email: student.email,
      password: student.password,
    });
    expect(response.statusCode).toBe(415);
    expect((await client.get("/student")).headers.location).toMatch(/^\/login/);
    const user = await t.ctx.db
      .selectFrom("users")
      .select("last_login_at")
      .where("email", "=", student.email)
      .executeTakeFirstOrThrow();
    expect(user.last_login_at).toBe(null);
    expect(await t.ctx.db.selectFrom("limit_events").selectAll().execute()).toEqual([]);
  });

  it("sends no reset code for a multipart forgot-password form", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const response = await new TestClient(t.app).postMultipart("/password/forgot", {
      email: student.email,
    });
    expect(response.statusCode).toBe(415);
    expect(await t.ctx.db.selectFrom("password_reset_codes").selectAll().execute()).toEqual([]);
  });

  it("refuses a correctly signed multipart webhook, changing nothing", async () => {
    const student = await createStudent(t.ctx, { approved: true });
    const params = { From: student.phone, Body: "STOP" };
    const signature = twilio.getExpectedTwilioSignature(
      TEST_AUTH_TOKEN,
      `${PUBLIC}/webhooks/twilio/inbound`,
      params,
    );
    const form = new FormData();
    for (const [k, v] of Object.entries(params)) form.set(k, v);
    const request = new Request("http://localhost/", { method: "POST", body: form });
    const response = await t.app.inject({
      method: "POST",
      url: "/webhooks/twilio/inbound",
      headers: {
        "content-type": request.headers.get("content-type")!,
        "x-twilio-signature": signature,
      },
      payload: Buffer.from(await request.arrayBuffer()),
    });
    expect(response.statusCode).toBe(415);
    const row = await t.ctx.db
      .selectFrom("students")
      .select("sms_opted_out_at")
      .where("id", "=", student.id)
      .executeTakeFirstOrThrow();
    expect(row.sms_opted_out_at).toBe(null);
  });

  it("answers a multipart login before its body has arrived, and drops the rest unread", async () => {
    const port = await listen();
    const raw = new RawRequest(port);
    try {
      const length = 8 * MB;
      const start = multipartStart({ _csrf: "whatever", email: "a@college.test" });
      await raw.write(postHead("/login", length));
      await raw.write(start);
      await raw.write(Buffer.alloc(MB, 0x20));
      // Seven megabytes still to come: the answer cannot have waited for them.
      expect(await raw.answer(/^HTTP\/1\.1 415 /)).toContain("This form does not take files");
      // The rest is read and dropped as it comes, and the connection serves the next request.
      await raw.write(Buffer.alloc(length - MB - start.length, 0x20));
      await raw.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      await raw.answer(/HTTP\/1\.1 200 [\s\S]*$/);
    } finally {
      raw.close();
    }
  });
});

describe("an upload form's CSRF token is checked before its file is read", () => {
  it("refuses a bad token with 403 while the file is still arriving", async () => {
    const port = await listen();
    const client = new TestClient(t.app);
    await client.refreshCsrf();
    const wrongToken = { _csrf: "not-the-token", full_name: "Asha Rao" };
    const noToken = { full_name: "Asha Rao" };
    for (const fields of [wrongToken, noToken] as Record<string, string>[]) {
      const raw = new RawRequest(port);
      try {
        await raw.write(postHead("/register", 50 * MB, client.cookieHeader));
        await raw.write(multipartStart(fields));
        await raw.write(pdfBytes());
        // The file part never ends: only an answer given before reading it can arrive.
        expect(await raw.answer(/^HTTP\/1\.1 403 /)).toContain("This form has expired");
      } finally {
        raw.close();
      }
    }
    expect(await t.ctx.db.selectFrom("students").select("id").execute()).toEqual([]);
  });

  it("refuses a token sent after the file (a form a browser would not send)", async () => {
    const client = new TestClient(t.app);
    const csrf = await client.refreshCsrf();
    const body = Buffer.concat([
      multipartStart({ full_name: "Asha Rao" }),
      pdfBytes(),
      Buffer.from(
        `\r\n--${BOUNDARY}\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${csrf}\r\n--${BOUNDARY}--\r\n`,
      ),
    ]);
    const response = await t.app.inject({
      method: "POST",
      url: "/register",
      headers: {
        cookie: client.cookieHeader,
        "content-type": `multipart/form-data; boundary=${BOUNDARY}`,
      },
      payload: body,
    });
    expect(response.statusCode).toBe(403);
  });

  it("sends an anonymous profile upload to log in before reading its file", async () => {
    const port = await listen();
    const raw = new RawRequest(port);
    try {
      await raw.write(postHead("/student/profile", 50 * MB));
      await raw.write(multipartStart({ _csrf: "x", phone: "98765 43210" }));
      await raw.write(pdfBytes());
      expect(await raw.answer(/^HTTP\/1\.1 303 /)).toMatch(/location: \/login/i);
    } finally {
      raw.close();
    }
  });

  it("still takes a whole registration with its resume over a socket", async () => {
    const port = await listen();
    const client = new TestClient(t.app);
    const csrf = await client.refreshCsrf();
    const body = multipartBody(
      {
        _csrf: csrf,
        full_name: "Asha Rao",
        roll_number: "1XY21CS001",
        email: "asha@college.test",
        phone: "98765 43210",
        department: "CSE",
        semester: "7",
        graduation_year: String(new Date().getUTCFullYear() + 1),
        cgpa: "8.2",
        active_backlogs: "0",
        password: "a strong password",
        password_confirm: "a strong password",
      },
      pdfBytes(),
    );
    const raw = new RawRequest(port);
    try {
      await raw.write(postHead("/register", body.length, client.cookieHeader));
      await raw.write(body);
      expect(await raw.answer(/^HTTP\/1\.1 303 /)).toMatch(/location: \/register\/done/i);
    } finally {
      raw.close();
    }
    const resume = await t.ctx.db.selectFrom("resumes").select("size").executeTakeFirstOrThrow();
    expect(resume.size).toBe(pdfBytes().length);
  });
});

describe("files read at once", () => {
  it("turns an upload away unread while the turns are taken, and takes it once one is free", async () => {
    const port = await listen();
    const client = new TestClient(t.app);
    const csrf = await client.refreshCsrf();
    const holder = new RawRequest(port);
    const second = new RawRequest(port);
    try {
      // The first upload's file never ends: it holds the one turn.
      await holder.write(postHead("/register", 50 * MB, client.cookieHeader));
      await holder.write(multipartStart({ _csrf: csrf, full_name: "Asha Rao" }));
      await holder.write(pdfBytes());
      await waitFor(
        () => t.app.uploadTurns.held === 1 || undefined,
        5000,
        "the first upload's turn",
      );
      await second.write(postHead("/register", 50 * MB, client.cookieHeader));
      await second.write(multipartStart({ _csrf: csrf, full_name: "Ravi Kumar" }));
      await second.write(pdfBytes());
      const answer = await second.answer(/^HTTP\/1\.1 503 [\s\S]*<\/html>/);
      expect(answer).toMatch(/retry-after: 1/i);
      expect(answer).toContain("Many files are being uploaded at this moment");
    } finally {
      holder.close();
      second.close();
    }
    // The turn comes back when the holder's connection goes.
    await waitFor(() => t.app.uploadTurns.held === 0 || undefined, 5000, "the turn given back");
    const registered = await client.postMultipart("/register", {
      full_name: "Meera Iyer",
      roll_number: "1XY21CS002",
      email: "meera@college.test",
      phone: "98765 43211",
      department: "CSE",
      semester: "7",
      graduation_year: String(new Date().getUTCFullYear() + 1),
      cgpa: "8.2",
      active_backlogs: "0",
      password: "a strong password",
      password_confirm: "a strong password",
      resume: { filename: "cv.pdf", data: pdfBytes() },
    });
    expect(registered.statusCode).toBe(303);
    expect(await t.ctx.db.selectFrom("resumes").select("student_id").execute()).toHaveLength(1);
  });
});

describe("a client that leaves while its upload waits", () => {
  it("takes no turn, so none is lost", async () => {
    // A long wait, so that only the client's leaving can end it.
    const own = await createTestApp({ UPLOADS_AT_ONCE: "1", UPLOAD_WAIT_SECONDS: "600" });
    try {
      await own.app.listen({ port: 0, host: "127.0.0.1" });
      const address = own.app.server.address();
      if (!address || typeof address === "string") throw new Error("not listening");
      const client = new TestClient(own.app);
      const csrf = await client.refreshCsrf();
      const turns = own.app.uploadTurns;
      const holder = new RawRequest(address.port);
      const leaver = new RawRequest(address.port);
      for (const [raw, name] of [
        [holder, "Asha Rao"],
        [leaver, "Ravi Kumar"],
      ] as const) {
        await raw.write(postHead("/register", 50 * MB, client.cookieHeader));
        await raw.write(multipartStart({ _csrf: csrf, full_name: name }));
        await raw.write(pdfBytes());
        if (raw === holder) await waitFor(() => turns.held === 1 || undefined, 5000, "a turn");
      }
      await waitFor(() => turns.queued === 1 || undefined, 5000, "the second upload waiting");
      leaver.close();
      await waitFor(() => turns.queued === 0 || undefined, 5000, "the leaver gone from the queue");
      holder.close();
      await waitFor(() => turns.held === 0 || undefined, 5000, "every turn given back");
    } finally {
      await own.close();
    }
  });
});
