import { describe, expect, it } from "vitest";
import { useTestApp } from "#test/support/app.ts";

const t = useTestApp();

describe("the favicon", () => {
  it("is linked from every page and answered at /favicon.ico, so browsers log no 404", async () => {
    const login = await t.app.inject({ method: "GET", url: "/login" });
    expect(login.body).toContain(
      '<link rel="icon" href="/assets/favicon.svg" type="image/svg+xml"/>',
    );
    const icon = await t.app.inject({ method: "GET", url: "/assets/favicon.svg" });
    expect(icon.statusCode).toBe(200);
    expect(icon.headers["content-type"]).toMatch(/^image\/svg\+xml/);
    expect(icon.body).toContain("<svg");
    const ico = await t.app.inject({ method: "GET", url: "/favicon.ico" });
    expect(ico.statusCode).toBe(301);
    expect(ico.headers.location).toBe("/assets/favicon.svg");
  });
});
