import type { FastifyInstance, LightMyRequestResponse } from "fastify";

export type FormFields = Record<
  string,
  string | string[] | { filename: string; data: Buffer; type?: string }
>;

/**
 * A browser-like client for `app.inject`: keeps the session cookie and sends the CSRF token that
 * the last form page carried, as a real form post would.
 */
export class TestClient {
  private cookies = new Map<string, string>();
  csrfToken: string | null = null;

  /**
   * `from` is where the requests come from: the socket's address (`remoteAddress`) and any
   * headers a proxy would add (X-Forwarded-For), for the tests of per-address limits.
   */
  constructor(
    private readonly app: FastifyInstance,
    private readonly from: { remoteAddress?: string; headers?: Record<string, string> } = {},
  ) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...this.from.headers, cookie: this.cookieHeader, ...extra };
  }

  private remember(response: LightMyRequestResponse): LightMyRequestResponse {
    for (const cookie of response.cookies) {
      if (cookie.value === "" || (cookie.maxAge !== undefined && cookie.maxAge <= 0))
        this.cookies.delete(cookie.name);
      else this.cookies.set(cookie.name, cookie.value);
    }
    const token = /name="_csrf" value="([^"]+)"/.exec(response.body)?.[1];
    if (token) this.csrfToken = token;
    return response;
  }

  get cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("; ");
  }

  async get(url: string): Promise<LightMyRequestResponse> {
    return this.remember(
      await this.app.inject({
        method: "GET",
        url,
        headers: this.headers(),
        ...(this.from.remoteAddress ? { remoteAddress: this.from.remoteAddress } : {}),
      }),
    );
  }

  /** A fresh token for the current session, from a page every visitor can open. */
  async refreshCsrf(): Promise<string> {
    await this.get("/register");
    if (!this.csrfToken) throw new Error("no CSRF token on /register");
    return this.csrfToken;
  }

  /** Posts an urlencoded form; `csrf: false` leaves the token out, to test the refusal. */
  async post(url: string, fields: FormFields = {}, options: { csrf?: boolean } = {}) {
    const params = new URLSearchParams();
    if (options.csrf !== false) params.set("_csrf", await this.refreshCsrf());
    for (const [k, v] of Object.entries(fields)) {
      for (const value of Array.isArray(v) ? v : [v]) {
        if (typeof value !== "string") throw new Error("use postMultipart for files");
        params.append(k, value);
      }
    }
    return this.remember(
      await this.app.inject({
        method: "POST",
        url,
        headers: this.headers({ "content-type": "application/x-www-form-urlencoded" }),
        payload: params.toString(),
        ...(this.from.remoteAddress ? { remoteAddress: this.from.remoteAddress } : {}),
      }),
    );
  }

  /** Posts multipart/form-data, encoded by the platform's own FormData as a browser would. */
  async postMultipart(url: string, fields: FormFields, options: { csrf?: boolean } = {}) {
    const form = new FormData();
    if (options.csrf !== false) form.set("_csrf", await this.refreshCsrf());
    for (const [k, v] of Object.entries(fields)) {
      if (typeof v === "string") form.append(k, v);
      else if (Array.isArray(v)) for (const item of v) form.append(k, item);
      else
        form.append(
          k,
          new Blob([new Uint8Array(v.data)], { type: v.type ?? "application/pdf" }),
          v.filename,
        );
    }
    const request = new Request("http://localhost/", { method: "POST", body: form });
    const payload = Buffer.from(await request.arrayBuffer());
    return this.remember(
      await this.app.inject({
        method: "POST",
        url,
        headers: this.headers({ "content-type": request.headers.get("content-type")! }),
        payload,
        ...(this.from.remoteAddress ? { remoteAddress: this.from.remoteAddress } : {}),
      }),
    );
  }
}

export async function loginAs(
  app: FastifyInstance,
  email: string,
  password: string,
  from: ConstructorParameters<typeof TestClient>[1] = {},
): Promise<TestClient> {
  const client = new TestClient(app, from);
  const response = await client.post("/login", { email, password });
  if (response.statusCode !== 303)
    throw new Error(`login as ${email} failed: ${response.statusCode}`);
  return client;
}

/**
 * The registration form as a browser sends it over HTTP (multipart), for Nisha Kulkarni
 * (1XY22CS777, +919845012345), with `resume` as her PDF: for tests and smokes that register
 * through a running portal.
 */
export function nishaRegistration(resume: Buffer) {
  return {
    full_name: "Nisha Kulkarni",
    roll_number: "1XY22CS777",
    email: "nisha@college.test",
    phone: "98450 12345",
    department: "CSE",
    semester: "7",
    graduation_year: String(new Date().getUTCFullYear() + 1),
    cgpa: "8.40",
    active_backlogs: "0",
    skills: "Go, SQL",
    password: "nisha-password-1",
    password_confirm: "nisha-password-1",
    resume: { filename: "cv.pdf", data: resume },
  };
}

/** A minimal valid PDF: file-type recognises it by its %PDF- header. */
export function pdfBytes(text = "resume"): Buffer {
  return Buffer.from(
    `%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n% ${text}\ntrailer << /Root 1 0 R >>\n%%EOF\n`,
  );
}
