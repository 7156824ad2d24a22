// @both-databases: the eligibility rule's SQL reading and the job search's LIKE.
import { describe, expect, it } from "vitest";
import { createStudent, postJob, useTestApp } from "#test/support/app.ts";
import { loginAs } from "#test/support/client.ts";
import { ineligibilityReasons, jobAcceptsStudent } from "../placement/eligibility.ts";
import { withRules } from "./service.ts";

const t = useTestApp();

async function student(overrides: Parameters<typeof createStudent>[1] = {}) {
  const s = await createStudent(t.ctx, { approved: true, ...overrides });
  return { ...s, client: await loginAs(t.app, s.email, s.password) };
}

async function pastDeadline(jobId: number) {
  await t.ctx.db
    .updateTable("jobs")
    .set({ apply_by: new Date(Date.now() - 60_000).toISOString() })
    .where("id", "=", jobId)
    .execute();
}

/** The job titles linked from a page, in order. */
function titles(html: string): string[] {
  return [...html.matchAll(/<a href="\/student\/jobs\/\d+">([^<]*)<\/a>/g)].map((m) => m[1]!);
}

describe("searching the student's job list", () => {
  it("finds words in the company, title or location, in any case, with % _ and \\ as themselves", async () => {
    const me = await student();
    const first = await postJob(t.ctx, {
      company: "Bosch",
      title: "Embedded Engineer",
      location: "Bengaluru",
    });
    const admin = first.admin;
    await postJob(
      t.ctx,
      { company: "Infosys", title: "Systems Engineer", location: "Mysuru" },
      admin,
    );
    await postJob(t.ctx, { company: "100% Pure_Tech", title: "Analyst", location: "Pune" }, admin);

    const search = async (q: string) => {
      const page = await me.client.get(`/student/jobs?q=${encodeURIComponent(q)}`);
      expect(page.statusCode, q).toBe(200);
      return page;
    };
    expect(titles((await search("BENGALURU")).body)).toEqual(["Bosch – Embedded Engineer"]);
    expect(titles((await search("engineer")).body).sort()).toEqual([
      "Bosch – Embedded Engineer",
      "Infosys – Systems Engineer",
    ]);
    expect(titles((await search("%")).body)).toEqual(["100% Pure_Tech – Analyst"]);
    expect(titles((await search("e_T")).body)).toEqual(["100% Pure_Tech – Analyst"]);
    expect(titles((await search("\\")).body)).toEqual([]);
    const one = await search("  mysuru ");
    expect(one.body).toContain("1 job matching “mysuru”.");
    expect(one.body).toContain('value="mysuru"');
    expect((await search("nothing like it")).body).toContain("0 jobs matching");
    expect((await me.client.get(`/student/jobs?q=${"x".repeat(101)}`)).statusCode).toBe(400);
    for (const hostile of ["%00", "a%0Ab", "%7F"])
      expect((await me.client.get(`/student/jobs?q=${hostile}`)).statusCode, hostile).toBe(400);
  });
});

describe("finding jobs by words, type, location and package, in an order", () => {
  it("finds the job type's words and the description's, every word of the search", async () => {
    const me = await student();
    const first = await postJob(t.ctx, {
      company: "Bosch",
      title: "Firmware Trainee",
      type: "internship",
      description: "Six months on embedded Linux.",
    });
    const admin = first.admin;
    await postJob(t.ctx, { company: "Wipro", title: "Project Engineer", type: "drive" }, admin);
    await postJob(
      t.ctx,
      { company: "Infosys", title: "Systems Engineer", description: "Java and Linux." },
      admin,
    );
    const search = async (q: string) =>
      titles((await me.client.get(`/student/jobs?q=${encodeURIComponent(q)}`)).body).sort();
    // Nothing in these jobs' company, title or location says "internship": their type does.
    expect(await search("internship")).toEqual(["Bosch – Firmware Trainee"]);
    expect(await search("Intern")).toEqual(["Bosch – Firmware Trainee"]);
    expect(await search("drive")).toEqual(["Wipro – Project Engineer"]);
    expect(await search("linux")).toEqual([
      "Bosch – Firmware Trainee",
      "Infosys – Systems Engineer",
    ]);
    // Every word must be found, each anywhere.
    expect(await search("linux internship")).toEqual(["Bosch – Firmware Trainee"]);
    expect(await search("java  mysuru")).toEqual(["Infosys – Systems Engineer"]);
    expect(await search("java bosch")).toEqual([]);
  });

  it("filters by type, location and package, sorts three ways, and keeps it all in the links", async () => {
    const me = await student();
    const day = 24 * 3600_000;
    const first = await postJob(t.ctx, {
      company: "Alpha",
      title: "Analyst",
      type: "placement",
      location: "Pune",
      package_range: "6-8 LPA",
      apply_by: new Date(Date.now() + 3 * day).toISOString(),
    });
    const admin = first.admin;
    await postJob(
      t.ctx,
      {
        company: "Beta",
        title: "Intern",
        type: "internship",
        location: "Pune",
        package_range: "INR 25,000 a month",
        apply_by: new Date(Date.now() + 1 * day).toISOString(),
      },
      admin,
    );
    await postJob(
      t.ctx,
      {
        company: "Gamma",
        title: "Engineer",
        type: "placement",
        location: "Bengaluru",
        package_range: "12-18 LPA",
        apply_by: new Date(Date.now() + 5 * day).toISOString(),
      },
      admin,
    );
    await postJob(
      t.ctx,
      {
        company: "Delta",
        title: "Trainee",
        type: "drive",
        location: "pune",
        package_range: "Best in industry",
        apply_by: new Date(Date.now() + 2 * day).toISOString(),
      },
      admin,
    );
    const list = async (query: string) => {
      const page = await me.client.get(`/student/jobs?${query}`);
      expect(page.statusCode, query).toBe(200);
      return page;
    };
    // The default: soonest deadline first.
    expect(titles((await list("")).body)).toEqual([
      "Beta – Intern",
      "Delta – Trainee",
      "Alpha – Analyst",
      "Gamma – Engineer",
    ]);
    expect(titles((await list("sort=package")).body)).toEqual([
      "Gamma – Engineer",
      "Alpha – Analyst",
      "Beta – Intern",
      "Delta – Trainee",
    ]);
    expect(titles((await list("sort=newest")).body)).toEqual([
      "Delta – Trainee",
      "Gamma – Engineer",
      "Beta – Intern",
      "Alpha – Analyst",
    ]);
    expect(titles((await list("type=internship")).body)).toEqual(["Beta – Intern"]);
    // One location in any case, offered once.
    const pune = await list("location=Pune");
    expect(titles(pune.body)).toEqual(["Beta – Intern", "Delta – Trainee", "Alpha – Analyst"]);
    expect(pune.body.match(/<option value="Pune" selected>Pune<\/option>/g)).toHaveLength(1);
    expect(pune.body).not.toContain('<option value="pune"');
    // At least 8 LPA at the top of the range; an unreadable package is left out.
    const rich = await list("package=8&sort=package");
    expect(titles(rich.body)).toEqual(["Gamma – Engineer", "Alpha – Analyst"]);
    expect(rich.body).toContain("2 jobs, 8 LPA or more, package, highest first.");
    expect(rich.body).toContain('<option value="8" selected>8 LPA or more</option>');
    expect(rich.body).toContain('<option value="package" selected>');
    const both = await list("type=placement&location=pune&q=a");
    expect(titles(both.body)).toEqual(["Alpha – Analyst"]);
    expect(both.body).toContain("1 placement in pune matching “a”.");
    expect(both.body).toContain('<option value="placement" selected>Placement</option>');

    for (const bad of ["type=job", "sort=cheapest", "package=-1", "package=1000", "location=%00"])
      expect((await me.client.get(`/student/jobs?${bad}`)).statusCode, bad).toBe(400);

    // Pagination keeps every filter.
    for (let i = 0; i < 52; i++)
      await postJob(
        t.ctx,
        { company: `More ${i}`, location: "Pune", package_range: "9 LPA" },
        admin,
      );
    const page1 = await list("q=more&type=placement&location=Pune&package=8&sort=newest");
    expect(titles(page1.body)).toHaveLength(50);
    expect(page1.body).toContain(
      'href="/student/jobs?q=more&type=placement&location=Pune&package=8&sort=newest&page=2"',
    );
  });
});

describe("only the jobs a student can apply to", () => {
  it("leaves out ineligible, past-deadline, closed and already-applied jobs, keeps withdrawn ones", async () => {
    const me = await student({ department: "CSE", cgpa: 7.5 });
    const open = await postJob(t.ctx, { company: "Open Co", title: "Analyst" });
    const admin = open.admin;
    await postJob(t.ctx, { company: "Picky Co", title: "Engineer", min_cgpa: 8 }, admin);
    await postJob(t.ctx, { company: "ECE Co", title: "VLSI", departments: ["ECE"] }, admin);
    const late = await postJob(t.ctx, { company: "Late Co", title: "Trainee" }, admin);
    await pastDeadline(late.id);
    const closed = await postJob(t.ctx, { company: "Closed Co", title: "Intern" }, admin);
    await t.ctx.db
      .updateTable("jobs")
      .set({ status: "closed" })
      .where("id", "=", closed.id)
      .execute();
    const applied = await postJob(t.ctx, { company: "Applied Co", title: "Dev" }, admin);
    await me.client.post(`/student/jobs/${applied.id}/apply`);
    const withdrawn = await postJob(t.ctx, { company: "Withdrawn Co", title: "Ops" }, admin);
    await me.client.post(`/student/jobs/${withdrawn.id}/apply`);
    const app = await t.ctx.db
      .selectFrom("applications")
      .select("id")
      .where("job_id", "=", withdrawn.id)
      .executeTakeFirstOrThrow();
    await me.client.post(`/student/applications/${app.id}/withdraw`, { confirm: "yes" });

    const page = await me.client.get("/student/jobs?eligible=1");
    expect(page.statusCode).toBe(200);
    expect(titles(page.body).sort()).toEqual(["Open Co – Analyst", "Withdrawn Co – Ops"]);
    expect(page.body).toContain("2 jobs you can apply to.");
    expect(page.body).toMatch(/<input type="checkbox" name="eligible" value="1" checked/);
    // Combined with a search.
    const both = await me.client.get("/student/jobs?eligible=1&q=open");
    expect(titles(both.body)).toEqual(["Open Co – Analyst"]);

    // The dashboard's card is that same list.
    const dashboard = await me.client.get("/student");
    expect(dashboard.body).toContain("Jobs you can apply to (2)");
    expect(dashboard.body).toContain('href="/student/jobs?eligible=1"');
    const [card] = dashboard.body.split("My applications</h2>");
    expect(titles(card!).sort()).toEqual(["Open Co – Analyst", "Withdrawn Co – Ops"]);
  });

  it("on the dashboard, leaves out every job applied to, not only those among its few applications shown", async () => {
    const me = await student();
    const first = await postJob(t.ctx, { company: "Applied 00" });
    const appliedTo = [first];
    for (let i = 1; i < 13; i++)
      appliedTo.push(
        await postJob(t.ctx, { company: `Applied ${String(i).padStart(2, "0")}` }, first.admin),
      );
    await postJob(t.ctx, { company: "Fresh Co", title: "Analyst" }, first.admin);
    // The first ones applied to are the oldest applications: past the dashboard's ten.
    for (const job of appliedTo) await me.client.post(`/student/jobs/${job.id}/apply`);

    const dashboard = await me.client.get("/student");
    const [card, applications] = dashboard.body.split("My applications</h2>");
    expect(titles(card!)).toEqual(["Fresh Co – Analyst"]);
    expect(card).toContain("Jobs you can apply to (1)");
    // The ten newest applications, newest first.
    const shown = [...applications!.matchAll(/Applied (\d\d)/g)].map((m) => Number(m[1]));
    expect([...new Set(shown)]).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3]);
  });

  it("pages through with the search and the toggle kept in the links", async () => {
    const me = await student();
    const first = await postJob(t.ctx, { company: "Acme 00" });
    for (let i = 1; i < 52; i++)
      await postJob(t.ctx, { company: `Acme ${String(i).padStart(2, "0")}` }, first.admin);
    await postJob(t.ctx, { company: "Other" }, first.admin);
    const page1 = await me.client.get("/student/jobs?q=acme&eligible=1");
    expect(titles(page1.body)).toHaveLength(50);
    expect(page1.body).toContain("52 jobs you can apply to matching “acme”.");
    expect(page1.body).toContain('href="/student/jobs?q=acme&eligible=1&page=2"');
    const page2 = await me.client.get("/student/jobs?q=acme&eligible=1&page=2");
    expect(titles(page2.body)).toHaveLength(2);
    expect(page2.body).not.toContain("Other —");
  });
});

describe("a job past its apply-by date", () => {
  it("is shown as closed, never as open to apply, in the list, the dashboard and its count", async () => {
    const me = await student();
    const late = await postJob(t.ctx, { company: "Late Ltd", title: "Trainee" });
    await postJob(t.ctx, { company: "Timely", title: "Analyst" }, late.admin);
    await pastDeadline(late.id);

    const list = await me.client.get("/student/jobs");
    const [open, closed] = list.body.split("<h2>Closed to applications</h2>");
    expect(titles(open!)).toEqual(["Timely – Analyst"]);
    expect(titles(closed!)).toEqual(["Late Ltd – Trainee"]);
    expect(closed).toContain("Closed: Deadline passed");

    const job = await me.client.get(`/student/jobs/${late.id}`);
    expect(job.body).toContain("You cannot apply: Deadline passed.");
    expect(job.body).not.toContain(">Apply</button>");

    const dashboard = await me.client.get("/student");
    expect(dashboard.body).toContain("Jobs you can apply to (1)");
    expect(dashboard.body).not.toContain("Late Ltd");
  });
});

describe("the jobs a student may apply to, in SQL", () => {
  it("selects exactly the jobs the rule explains as open to them", async () => {
    const admin = (await postJob(t.ctx, { company: "No rules" })).admin;
    const ruleSets = [
      { departments: ["CSE", "ISE"], min_cgpa: 7.5, max_backlogs: 0 },
      { departments: ["ECE"], graduation_years: [2027], min_cgpa: 6, max_backlogs: 1 },
      { graduation_years: [2026, 2028], semesters: [5, 6, 7, 8], min_cgpa: 8.1 },
      { departments: ["ME"], semesters: [3], max_backlogs: 2 },
      { semesters: [7] },
      { min_cgpa: 8.2 },
    ];
    for (const [i, rules] of ruleSets.entries())
      await postJob(t.ctx, { company: `Rules ${i}`, ...rules }, admin);
    const jobs = await withRules(t.ctx, await t.ctx.db.selectFrom("jobs").selectAll().execute());
    const departments = ["CSE", "ECE", "ME", "ISE"];
    for (let i = 0; i < 24; i++) {
      const s = await createStudent(t.ctx, {
        department: departments[i % 4]!,
        cgpa: i === 0 ? 8.2 : 5 + ((i * 37) % 50) / 10,
        active_backlogs: i % 5 === 0 ? 2 : i % 3 === 0 ? 1 : 0,
        graduation_year: 2026 + (i % 3),
        semester: 1 + (i % 8),
      });
      // Some students left the semester blank at registration.
      if (i % 6 === 0)
        await t.ctx.db
          .updateTable("students")
          .set({ semester: null })
          .where("id", "=", s.id)
          .execute();
      const facts = await t.ctx.db
        .selectFrom("students")
        .selectAll()
        .where("id", "=", s.id)
        .executeTakeFirstOrThrow();
      const expected = jobs
        .filter((j) => ineligibilityReasons(j.rules, facts).length === 0)
        .map((j) => j.id)
        .sort((a, b) => a - b);
      const selected = await t.ctx.db
        .selectFrom("jobs")
        .select("id")
        .where(jobAcceptsStudent(facts))
        .orderBy("id")
        .execute();
      expect(
        selected.map((j) => j.id),
        JSON.stringify(facts),
      ).toEqual(expected);
    }
  });
});

describe("words on the student's pages", () => {
  it("says types and statuses in words, counts with the right plural, and CGPAs with two decimals", async () => {
    const me = await student({ cgpa: 6.5, active_backlogs: 2 });
    const job = await postJob(t.ctx, {
      company: "Picky",
      title: "Intern",
      type: "internship",
      min_cgpa: 7,
      max_backlogs: 1,
    });
    const other = await postJob(t.ctx, { company: "Easy", title: "Analyst" }, job.admin);

    const list = await me.client.get("/student/jobs");
    expect(list.body).toContain("Internship · Mysuru");
    expect(list.body).toContain("CGPA below 7.00; More than 1 active backlog");
    expect(list.body).toContain("2 jobs, open ones first.");
    const detail = await me.client.get(`/student/jobs/${job.id}`);
    expect(detail.body).toContain("Minimum CGPA: 7.00");
    expect(detail.body).toMatch(/apply by \d+ \w+ \d{4}, [\d:]+ [ap]m IST/);

    expect((await me.client.get("/student/applications")).body).toContain("0 applications");
    await me.client.post(`/student/jobs/${other.id}/apply`);
    const applications = await me.client.get("/student/applications");
    expect(applications.body).toContain("1 application<");
    expect(applications.body).toContain('<span class="status status-applied">Applied</span>');

    const profile = await me.client.get("/student/profile");
    expect(profile.body).toContain("<dd>6.50</dd>");
    expect((await me.client.get("/student")).body).toContain("<dd>6.50</dd>");
  });
});
