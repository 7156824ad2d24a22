// @both-databases: the policy's upsert guarded by updated_at on both databases
import { describe, expect, it } from "vitest";
import { createAdmin, createStudent, postJob, useTestApp } from "#test/support/app.ts";
import { loginAs, type TestClient } from "#test/support/client.ts";
import { confirm, confirmForm, pageText } from "#test/support/confirm.ts";
import { savePolicy, storedPolicy } from "./service.ts";

const t = useTestApp();
const YEAR = 2027;
const FORM = `/admin/policies/${YEAR}`;

async function asAdmin(email = "tpo@college.test"): Promise<TestClient> {
  const admin = await createAdmin(t.ctx, email, "admin-password-1");
  return loginAs(t.app, admin.email, admin.password);
}

/** The policy form as a browser sends it: one accepted offer, the default tiers, an upgrade only. */
const policyForm = (overrides: Record<string, string | string[]> = {}) => ({
  base_updated_at: "",
  max_accepted: "1",
  tier_name_1: "Regular",
  tier_from_1: "0",
  tier_name_2: "Dream",
  tier_from_2: "6",
  tier_name_3: "Super dream",
  tier_from_3: "12",
  tier_name_4: "",
  tier_from_4: "",
  placed_may_apply: "higher_tier",
  package_multiple: "",
  block_on_decline: "on",
  ...overrides,
});

const fieldError = (body: string, field: string) =>
  pageText(new RegExp(`id="f-${field}-error"[^>]*>([^<]*)<`).exec(body)?.[1] ?? "");
const inputValue = (body: string, field: string) =>
  new RegExp(`<input[^>]*id="f-${field}"[^>]*value="([^"]*)"`).exec(body)?.[1] ??
  new RegExp(`<input[^>]*value="([^"]*)"[^>]*id="f-${field}"`).exec(body)?.[1];
const baseOf = (body: string) => /name="base_updated_at" value="([^"]*)"/.exec(body)?.[1] ?? null;

const policies = () => t.ctx.db.selectFrom("placement_policies").selectAll().execute();
const auditOf = (prefix = "placement_policy.") =>
  t.ctx.db
    .selectFrom("audit_log")
    .selectAll()
    .where("action", "like", `${prefix}%`)
    .orderBy("id")
    .execute();

interface Facts {
  accepted_offers?: number;
  best_offer_lpa?: number | null;
  accepted_ppos?: number;
  reneged_at?: string | null;
  placement_opted_out_at?: string | null;
}

/** A student of the year with what the policy reads of their offers set directly. */
async function student(facts: Facts, extra: Parameters<typeof createStudent>[1] = {}) {
  const s = await createStudent(t.ctx, { approved: true, ...extra });
  if (Object.keys(facts).length > 0)
    await t.ctx.db.updateTable("students").set(facts).where("id", "=", s.id).execute();
  return s;
}

/** Opens the year's form, posts `form` with the base the page carried: the preview. */
async function preview(client: TestClient, form: Record<string, string | string[]>) {
  const page = await client.get(FORM);
  return client.post(FORM, { ...form, base_updated_at: baseOf(page.body) ?? "" });
}

describe("the placement policy pages", () => {
  it("list the years and show the form with the defaults", async () => {
    await student({}, { graduation_year: YEAR });
    await student({ accepted_offers: 1, best_offer_lpa: 7.5 }, { graduation_year: YEAR + 1 });
    const staff = await asAdmin();
    expect((await staff.get("/admin")).body).toContain('<a href="/admin/policies">');
    const list = await staff.get("/admin/policies");
    expect(list.statusCode).toBe(200);
    const text = pageText(list.body);
    for (const year of [YEAR, YEAR + 1]) expect(text).toContain(`Set a policy for ${year}`);
    expect(text).toContain("No policy: placed students may apply to everything");
    expect(text).toContain("1 holding an accepted offer or having declined one after accepting it");
    // Another year is one GET away.
    const other = await staff.get("/admin/policies?year=2031");
    expect(other.statusCode).toBe(303);
    expect(other.headers.location).toBe("/admin/policies/2031");
    expect((await staff.get("/admin/policies?year=1e3")).statusCode).toBe(400);

    const page = await staff.get(FORM);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('name="_csrf"');
    expect(inputValue(page.body, "max_accepted")).toBe("1");
    expect(
      [1, 2, 3, 4].map((row) => [
        inputValue(page.body, `tier_name_${row}`),
        inputValue(page.body, `tier_from_${row}`),
      ]),
    ).toEqual([
      ["Regular", "0"],
      ["Dream", "6"],
      ["Super dream", "12"],
      ["", ""],
    ]);
    expect(page.body).toMatch(/name="placed_may_apply" value="higher_tier" checked/);
    expect(page.body).toMatch(/name="ppo_in_campus" checked/);
    expect(page.body).not.toMatch(/name="block_on_decline" checked/);
    expect(baseOf(page.body)).toBe("");
    expect(pageText(page.body)).toContain("No policy: placed students may apply to everything");
    // No policy, nothing to remove.
    expect(page.body).not.toContain(`${FORM}/remove`);
    for (const url of ["/admin/policies/abc", "/admin/policies/0", "/admin/policies/99999"])
      expect((await staff.get(url)).statusCode, url).toBe(400);
  });

  it("refuse invalid input with 400, the message beside its field and the values kept", async () => {
    const staff = await asAdmin();
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ tier_from_3: "5" }, "tier_from_3", /Each tier starts above the one before it/],
      [{ tier_from_1: "2" }, "tier_from_1", /The first tier starts at 0 LPA/],
      [{ placed_may_apply: "multiple" }, "package_multiple", /Enter the multiple N/],
      [
        { placed_may_apply: "multiple", package_multiple: "11" },
        "package_multiple",
        /between 1 and 10/,
      ],
      [{ max_accepted: "0" }, "max_accepted", /must be between 1 and 10/],
      [{ max_accepted: "1e1" }, "max_accepted", /must be a whole number/],
      [{ placed_may_apply: "everything" }, "placed_may_apply", /Choose what a student/],
      [{ tier_name_2: "Dr\u0000eam" }, "tier_name_2", /control characters/],
      [{ tier_name_2: "" }, "tier_name_2", /Enter the tier's name/],
      [{ tier_name_3: "dream" }, "tier_name_3", /same name/],
      [{ tier_from_2: "Infinity" }, "tier_from_2", /must be a number/],
      [
        {
          tier_name_1: "",
          tier_from_1: "",
          tier_name_2: "",
          tier_from_2: "",
          tier_name_3: "",
          tier_from_3: "",
        },
        "tiers",
        /at least one tier/,
      ],
    ];
    for (const [overrides, field, message] of cases) {
      const what = JSON.stringify(overrides);
      const response = await staff.post(FORM, policyForm(overrides));
      expect(response.statusCode, what).toBe(400);
      expect(fieldError(response.body, field), what).toMatch(message);
      expect(response.body, what).toContain("Please correct");
      // What was typed comes back.
      for (const [name, value] of Object.entries(overrides))
        if (!name.startsWith("placed") && !value.includes("\u0000"))
          expect(inputValue(response.body, name), `${what} ${name}`).toBe(value);
    }
    // Every error at once, and the choice kept.
    const many = await staff.post(
      FORM,
      policyForm({ max_accepted: "0", tier_from_1: "1", placed_may_apply: "multiple" }),
    );
    expect(many.statusCode).toBe(400);
    expect(pageText(many.body)).toContain("Please correct the 3 fields marked below.");
    expect(many.body).toMatch(/name="placed_may_apply" value="multiple" checked/);
    expect(many.body).toMatch(/name="block_on_decline" checked/);
    // A field sent twice is refused like any other value, never a 500.
    const twice = await staff.post(FORM, policyForm({ max_accepted: ["1", "2"] }));
    expect(twice.statusCode).toBe(400);
    expect(await policies()).toEqual([]);
    expect(await auditOf()).toEqual([]);
  });

  it("preview the change: who becomes ineligible for which open job, and who eligible again", async () => {
    const staff = await asAdmin();
    const asha = await student(
      { accepted_offers: 1, best_offer_lpa: 7.5 },
      { graduation_year: YEAR, full_name: "Asha Rao" },
    );
    await student({ accepted_offers: 1, best_offer_lpa: 13 }, { graduation_year: YEAR });
    await student({ reneged_at: new Date().toISOString() }, { graduation_year: YEAR });
    await student(
      { accepted_offers: 1, accepted_ppos: 1, best_offer_lpa: 5 },
      { graduation_year: YEAR },
    );
    const kiran = await student(
      { accepted_offers: 1, best_offer_lpa: 10 },
      { graduation_year: YEAR, full_name: "Kiran Kumar" },
    );
    // Never counted: no offer; another year; not approved; opted out.
    await student({}, { graduation_year: YEAR });
    await student({ accepted_offers: 1, best_offer_lpa: 3 }, { graduation_year: YEAR + 1 });
    const pending = await createStudent(t.ctx, { graduation_year: YEAR });
    await t.ctx.db
      .updateTable("students")
      .set({ accepted_offers: 1, best_offer_lpa: 3 })
      .where("id", "=", pending.id)
      .execute();
    await student(
      { accepted_offers: 1, best_offer_lpa: 3, placement_opted_out_at: new Date().toISOString() },
      { graduation_year: YEAR },
    );

    const j4 = await postJob(t.ctx, { company: "Wipro", title: "Trainee", package_range: "4 LPA" });
    await postJob(t.ctx, { company: "Bosch", title: "GET", package_range: "9 LPA" });
    await postJob(t.ctx, { company: "Google", title: "SWE", package_range: "14 LPA" });
    // Not counted: its rules take no CSE student; closed; past its deadline; another year's.
    await postJob(t.ctx, { company: "Qualcomm", package_range: "20 LPA", departments: ["ECE"] });
    const closed = await postJob(t.ctx, { company: "Closed Co", package_range: "20 LPA" });
    const past = await postJob(t.ctx, { company: "Late Co", package_range: "5 LPA" });
    await postJob(t.ctx, {
      company: "Next Year Co",
      package_range: "5 LPA",
      graduation_years: [YEAR + 1],
    });
    await t.ctx.db
      .updateTable("jobs")
      .set({ status: "closed" })
      .where("id", "=", closed.id)
      .execute();
    await t.ctx.db
      .updateTable("jobs")
      .set({ apply_by: new Date(Date.now() - 3600_000).toISOString() })
      .where("id", "=", past.id)
      .execute();
    const read = await t.ctx.db
      .selectFrom("jobs")
      .select("package_lpa")
      .where("id", "=", j4.id)
      .executeTakeFirstOrThrow();
    expect(read.package_lpa).toBe(4);

    // No policy -> one accepted offer, only a higher tier, declining ends it, PPO holders out.
    const first = await preview(staff, policyForm());
    expect(first.statusCode).toBe(200);
    let text = pageText(first.body);
    // Asha (7.5, Dream): 4 and 9 LPA; 13 LPA: all three; the decliner: all; the PPO: all;
    // Kiran (10, Dream): 4 and 9 LPA.
    expect(text).toContain(
      "This change makes 5 students ineligible for 3 open jobs, and nobody eligible again.",
    );
    expect(text).toContain("over the 4 open jobs taking applications and the 5 approved students");
    expect(text).toContain(
      `${asha.roll_number} Asha Rao Wipro – Trainee You accepted an offer of 7.5 LPA (Dream); this job is in a lower tier (Regular)`,
    );
    expect(text).toContain("You declined an offer after accepting it");
    expect(text).toContain("You accepted a pre-placement offer");
    expect(text).toContain("Nobody gets an SMS.");
    expect(await policies()).toEqual([]);
    const saved = await confirm(staff, first);
    expect(saved.statusCode).toBe(303);
    expect(saved.headers.location).toBe("/admin/policies");

    // -> N = 1.5 times the best package, declining and PPOs no longer held against anyone.
    const second = await preview(
      staff,
      policyForm({
        placed_may_apply: "multiple",
        package_multiple: "1.5",
        block_on_decline: "",
        ppo_in_campus: "on",
      }),
    );
    text = pageText(second.body);
    // Kiran loses Google (14 < 15); the decliner gains all three, the PPO holder 9 and 14 LPA.
    expect(text).toContain(
      "This change makes 1 student ineligible for 1 open job and 2 students eligible again for 3 jobs.",
    );
    expect(text).toContain(
      `${kiran.roll_number} Kiran Kumar Google – SWE You accepted an offer of 10 LPA; the placement policy opens only jobs paying at least 1.5 times that (15 LPA)`,
    );
    expect(text).toContain("Eligible again");

    // Removing it: everyone the policy held back may apply again (Asha to 4 and 9 LPA...).
    await confirm(staff, second);
    const form = await staff.get(FORM);
    const removal = await staff.post(`${FORM}/remove`, { base_updated_at: baseOf(form.body)! });
    expect(removal.statusCode).toBe(200);
    // Asha 2, 13 LPA 3, Kiran 3, the PPO holder 1 (4 LPA): 4 students, 3 jobs.
    expect(pageText(removal.body)).toContain(
      "This change makes 4 students eligible again for 3 jobs, and nobody ineligible for an open job.",
    );
  });

  it("save on confirmation, audited with the old and the new policy, and remove the same way", async () => {
    await student({}, { graduation_year: YEAR });
    const staff = await asAdmin();
    const admin = await t.ctx.db
      .selectFrom("users")
      .select("id")
      .where("email", "=", "tpo@college.test")
      .executeTakeFirstOrThrow();
    const page = await preview(staff, policyForm({ tier_name_2: "<b>Dream</b>" }));
    // Text, never markup: only inside a quoted attribute does it stay as typed.
    expect(page.body).toContain("&lt;b>Dream&lt;/b> from 6 LPA");
    expect(page.body.replace(/value="[^"]*"/g, "")).not.toContain("<b>");
    // Back to the form keeps what was typed.
    const { fields } = confirmForm(page);
    const back = await staff.post(FORM, { ...fields, back: "yes", confirm: "" });
    expect(back.statusCode).toBe(200);
    expect(inputValue(back.body, "tier_name_2")).toBe("<b>Dream</b>");
    expect(await policies()).toEqual([]);

    const saved = await confirm(staff, page);
    expect(saved.statusCode).toBe(303);
    const [row] = await policies();
    expect(row).toMatchObject({
      graduation_year: YEAR,
      max_accepted: 1,
      placed_may_apply: "higher_tier",
      package_multiple: null,
      block_on_decline: 1,
      ppo_in_campus: 0,
      updated_by: admin.id,
    });
    expect(JSON.parse(row!.tiers)).toEqual([
      { name: "Regular", fromLpa: 0 },
      { name: "<b>Dream</b>", fromLpa: 6 },
      { name: "Super dream", fromLpa: 12 },
    ]);
    const [set] = await auditOf();
    expect(set!.action).toBe("placement_policy.set");
    expect(JSON.parse(set!.details)).toMatchObject({
      graduationYear: YEAR,
      from: null,
      to: { maxAccepted: 1, placedMayApply: "higher_tier", blockOnDecline: true },
    });
    const list = pageText((await staff.get("/admin/policies")).body);
    expect(list).toContain("A student may hold 1 accepted offer");
    expect(list).toContain("Set by tpo@college.test");

    // Saving the same again changes nothing and records nothing.
    const same = await preview(staff, policyForm({ tier_name_2: "<b>Dream</b>" }));
    expect(same.statusCode).toBe(303);
    expect(await auditOf()).toHaveLength(1);

    const changed = await confirm(staff, await preview(staff, policyForm({ max_accepted: "2" })));
    expect(changed.statusCode).toBe(303);
    const [, edit] = await auditOf();
    expect(edit!.action).toBe("placement_policy.edit");
    expect(JSON.parse(edit!.details)).toMatchObject({
      from: { maxAccepted: 1 },
      to: { maxAccepted: 2 },
    });
    const audit = pageText((await staff.get("/admin/audit")).body);
    expect(audit).toContain(`Changed the placement policy of the ${YEAR} batch`);
    expect(audit).toContain("“A student may hold 1 accepted offer;");
    expect(audit).toContain(`Set the placement policy of the ${YEAR} batch`);
    expect((await staff.get("/admin/audit")).body).toContain("Placement policy changed");

    const form = await staff.get(FORM);
    const removal = await staff.post(`${FORM}/remove`, { base_updated_at: baseOf(form.body)! });
    expect(pageText(removal.body)).toContain("After this change No policy");
    expect(await policies()).toHaveLength(1);
    expect((await confirm(staff, removal)).statusCode).toBe(303);
    expect(await policies()).toEqual([]);
    const actions = (await auditOf()).map((a) => a.action);
    expect(actions).toEqual([
      "placement_policy.set",
      "placement_policy.edit",
      "placement_policy.remove",
    ]);
    expect(pageText((await staff.get("/admin/audit")).body)).toContain(
      `Removed the placement policy of the ${YEAR} batch`,
    );
  });

  it("apply one of two changes confirmed at once from the same form, and tell the other admin", async () => {
    await student({ accepted_offers: 1, best_offer_lpa: 7 }, { graduation_year: YEAR });
    const one = await asAdmin("one@college.test");
    const two = await asAdmin("two@college.test");
    // A new policy (INSERT ... ON CONFLICT DO NOTHING), then a change of it (UPDATE ... WHERE
    // updated_at = ?), then its removal (DELETE ... WHERE updated_at = ?).
    for (const round of ["set", "change", "remove"] as const) {
      const before = await policies();
      const pages =
        round === "remove"
          ? await Promise.all(
              [one, two].map(async (c) =>
                c.post(`${FORM}/remove`, { base_updated_at: baseOf((await c.get(FORM)).body)! }),
              ),
            )
          : [
              await preview(one, policyForm({ max_accepted: round === "set" ? "2" : "4" })),
              await preview(two, policyForm({ max_accepted: round === "set" ? "3" : "5" })),
            ];
      for (const page of pages) expect(page.statusCode, round).toBe(200);
      const answers = await Promise.all([confirm(one, pages[0]!), confirm(two, pages[1]!)]);
      expect(answers.map((a) => a.statusCode).sort(), round).toEqual([303, 409]);
      const refused = answers.find((a) => a.statusCode === 409)!;
      expect(pageText(refused.body), round).toContain(
        `Nothing was saved: the ${YEAR} policy changed after you opened this form`,
      );
      const after = await policies();
      if (round === "remove") expect(after).toEqual([]);
      else {
        expect(after).toHaveLength(1);
        expect(after[0]!.updated_at).not.toBe(before[0]?.updated_at);
        // The refused form now carries the time of the change that won: sending it again is on purpose.
        expect(baseOf(refused.body)).toBe((await storedPolicy(t.ctx, YEAR))!.updatedAt);
      }
    }
    expect((await auditOf()).map((a) => a.action)).toEqual([
      "placement_policy.set",
      "placement_policy.edit",
      "placement_policy.remove",
    ]);
  });

  it("write nothing when the policy changed since the time a change carries (one statement decides)", async () => {
    const admin = await createAdmin(t.ctx);
    const actor = { id: admin.id, email: admin.email };
    const policy = {
      graduationYear: YEAR,
      maxAccepted: 1,
      tiers: [{ name: "Regular", fromLpa: 0 }],
      placedMayApply: "none" as const,
      packageMultiple: null,
      blockOnDecline: false,
      ppoInCampus: true,
    };
    // Two new policies at once: one INSERT wins.
    const both = await Promise.all([
      savePolicy(t.ctx, actor, { ...policy, maxAccepted: 2 }, null),
      savePolicy(t.ctx, actor, { ...policy, maxAccepted: 3 }, null),
    ]);
    expect(both.map((r) => r.ok).sort()).toEqual([false, true]);
    const stored = (await storedPolicy(t.ctx, YEAR))!;
    // Two changes of it at once, from the same time: one UPDATE wins.
    const changes = await Promise.all(
      [4, 5].map((n) => savePolicy(t.ctx, actor, { ...policy, maxAccepted: n }, stored.updatedAt)),
    );
    expect(changes.map((r) => r.ok).sort()).toEqual([false, true]);
    const lost = changes.find((r) => !r.ok);
    expect(lost).toMatchObject({ ok: false, current: { updatedBy: admin.email } });
    // A stale time again: refused, whatever the change.
    const stale = await savePolicy(t.ctx, actor, { ...policy, maxAccepted: 9 }, stored.updatedAt);
    expect(stale.ok).toBe(false);
    const now = (await storedPolicy(t.ctx, YEAR))!;
    expect([4, 5]).toContain(now.policy.maxAccepted);
    expect(now.updatedAt > stored.updatedAt).toBe(true);
    expect(await auditOf()).toHaveLength(2);
  });

  it("refuse a time that is not one the page wrote, and hostile years, without a 5xx", async () => {
    const staff = await asAdmin();
    for (const base of [
      "garbage",
      "2027-02-30T10:00:00.000Z",
      "0000-01-01T00:00:00.000Z",
      "\u0000",
    ]) {
      const response = await staff.post(FORM, policyForm({ base_updated_at: base }));
      expect(response.statusCode, base).toBe(409);
    }
    for (const year of ["abc", "0", "-1", "1e3", "99999", "2027.0", "%00"]) {
      const response = await staff.post(`/admin/policies/${year}`, policyForm());
      expect(response.statusCode, year).toBe(404);
      expect((await staff.post(`/admin/policies/${year}/remove`, {})).statusCode, year).toBe(404);
    }
    // Nothing to remove: said, not an error.
    const none = await staff.post(`${FORM}/remove`, { base_updated_at: "" });
    expect(none.statusCode).toBe(303);
    expect(await policies()).toEqual([]);
  });

  it("are closed to students", async () => {
    const s = await student({ accepted_offers: 1, best_offer_lpa: 7 }, { graduation_year: YEAR });
    const asStudent = await loginAs(t.app, s.email, s.password);
    for (const url of ["/admin/policies", FORM])
      expect((await asStudent.get(url)).statusCode, url).toBe(403);
    expect((await asStudent.post(FORM, policyForm({ confirm: "yes" }))).statusCode).toBe(403);
    expect((await asStudent.post(`${FORM}/remove`, { confirm: "yes" })).statusCode).toBe(403);
    expect(await policies()).toEqual([]);
  });

  it("hold a student back on their job pages and at applying once saved", async () => {
    const s = await student({ accepted_offers: 1, best_offer_lpa: 7.5 }, { graduation_year: YEAR });
    const nine = await postJob(t.ctx, { company: "Bosch", title: "GET", package_range: "9 LPA" });
    const fourteen = await postJob(t.ctx, {
      company: "Google",
      title: "SWE",
      package_range: "14 LPA",
    });
    const asStudent = await loginAs(t.app, s.email, s.password);
    const applyForm = (id: number) => `action="/student/jobs/${id}/apply"`;
    // No policy: placed students may apply to everything.
    expect((await asStudent.get(`/student/jobs/${nine.id}`)).body).toContain(applyForm(nine.id));

    const staff = await asAdmin();
    expect((await confirm(staff, await preview(staff, policyForm()))).statusCode).toBe(303);
    const page = await asStudent.get(`/student/jobs/${nine.id}`);
    expect(pageText(page.body)).toContain(
      "You accepted an offer of 7.5 LPA (Dream); this job is in the same tier",
    );
    expect(page.body).not.toContain(applyForm(nine.id));
    // A higher tier is still open to them.
    expect((await asStudent.get(`/student/jobs/${fourteen.id}`)).body).toContain(
      applyForm(fourteen.id),
    );
    // And the apply check says the same.
    await asStudent.post(`/student/jobs/${nine.id}/apply`);
    await asStudent.post(`/student/jobs/${fourteen.id}/apply`);
    const applied = await t.ctx.db
      .selectFrom("applications")
      .select("job_id")
      .where("student_id", "=", s.id)
      .execute();
    expect(applied.map((a) => a.job_id)).toEqual([fourteen.id]);
  });
});
