import type { FormFields } from "./client.ts";

export interface HttpResponse {
  status: number;
  headers: Headers;
  /** The body as text (pages). */
  body: string;
  /** The body as sent (files). */
  bytes: Buffer;
}

/**
 * A browser-like client over real HTTP, for portal processes: one cookie jar and the CSRF token of
 * the last form page, whichever server answered. With servers sharing SESSION_SECRET (behind one
 * load balancer), a session started on one is used on another, as a browser's would be.
 */
export class HttpClient {
  private cookies = new Map<string, string>();
  csrfToken: string | null = null;

  constructor(private readonly timeoutMs = 15_000) {}

  private cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  async request(url: string, init: RequestInit = {}): Promise<HttpResponse> {
    const response = await fetch(url, {
      ...init,
      redirect: "manual",
      headers: { ...(init.headers as Record<string, string>), cookie: this.cookieHeader() },
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attributes] = line.split(";").map((s) => s.trim());
      const at = pair.indexOf("=");
      const name = pair.slice(0, at);
      const value = pair.slice(at + 1);
      const expired = attributes.some(
        (a) =>
          /^max-age=0$/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) < Date.now()),
      );
      if (value === "" || expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    const bytes = Buffer.from(await response.arrayBuffer());
    const body = bytes.toString("utf8");
    const token = /name="_csrf" value="([^"]+)"/.exec(body)?.[1];
    if (token) this.csrfToken = token;
    return { status: response.status, headers: response.headers, body, bytes };
  }

  get(base: string, path: string): Promise<HttpResponse> {
    return this.request(`${base}${path}`);
  }

  /** A fresh token for the current session, from a page every visitor can open. */
  async refreshCsrf(base: string): Promise<string> {
    await this.get(base, "/register");
    if (!this.csrfToken) throw new Error(`no CSRF token on ${base}/register`);
    return this.csrfToken;
  }

  async post(base: string, path: string, fields: FormFields = {}): Promise<HttpResponse> {
    const params = new URLSearchParams();
    params.set("_csrf", await this.refreshCsrf(base));
    for (const [k, v] of Object.entries(fields)) {
      for (const value of Array.isArray(v) ? v : [v]) {
        if (typeof value !== "string") throw new Error("use postMultipart for files");
        params.append(k, value);
      }
    }
    return this.request(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: params.toString(),
    });
  }

  async postMultipart(base: string, path: string, fields: FormFields): Promise<HttpResponse> {
    const form = new FormData();
    form.set("_csrf", await this.refreshCsrf(base));
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
    return this.request(`${base}${path}`, { method: "POST", body: form });
  }
}
