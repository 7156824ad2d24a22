import type { FastifyInstance } from "fastify";
import { announcementsForStudent } from "../announcements/service.ts";
import { ApplicationsTable } from "../applications/pages.tsx";
import { studentApplications } from "../applications/service.ts";
import { JobCards } from "../jobs/pages.tsx";
import { jobsForStudent } from "../jobs/service.ts";
import { StudentOffersCard } from "../offers/pages.tsx";
import { offersOfStudent } from "../offers/service.ts";
import { StudentSlotList, studentSlots } from "../placement/rounds.tsx";
import { feedPath } from "../rounds/calendar.ts";
import { AcademicSummary, DepartmentFilter, SetSemesterNotice } from "../students/pages.tsx";
import { findStudent } from "../students/profile.ts";
import { currentStudentId, HttpError, requireRole } from "../web/auth.ts";
import { formatDateTime } from "../web/components.tsx";
import { formatNumber, pluralWord } from "../web/format.ts";
import { CsrfField, Layout } from "../web/layout.tsx";
import { pageContext } from "../web/page.ts";
import { orEmpty, textParam, wholeNumberParam } from "../web/schemas.ts";
import { adminDashboard, type DashboardFilters } from "./service.ts";

function percent(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}

export async function adminDashboardRoutes(app: FastifyInstance) {
  const ctx = app.ctx;
  app.addHook("onRequest", requireRole("admin"));

  app.get<{
    Querystring: {
      department?: string;
      year?: number | "";
      semester?: number | "";
      company?: string;
    };
  }>(
    "/",
    {
      schema: {
        querystring: {
          type: "object",
          properties: {
            department: textParam(20),
            year: orEmpty(wholeNumberParam(1900, 2200)),
            semester: orEmpty(wholeNumberParam(1, 10)),
            company: textParam(100),
          },
        },
      },
    },
    async (request, reply) => {
      const q = request.query;
      const filters: DashboardFilters = {
        department: q.department || undefined,
        year: typeof q.year === "number" ? q.year : undefined,
        semester: typeof q.semester === "number" ? q.semester : undefined,
        company: q.company || undefined,
      };
      const d = await adminDashboard(ctx, filters);
      // [one, many, count, link]: each card reads "1 open job" or "2 open jobs".
      const counters: [string, string, number, string][] = [
        [
          "pending registration",
          "pending registrations",
          d.pending,
          "/admin/students?status=pending",
        ],
        ["approved student", "approved students", d.approved, "/admin/students?status=approved"],
        [
          "open job",
          "open jobs",
          d.openJobs,
          `/admin/jobs?status=open${filters.company ? `&company=${encodeURIComponent(filters.company)}` : ""}`,
        ],
        ["application", "applications", d.applications, "/admin/jobs"],
        ["student selected", "students selected", d.selected, "/admin/jobs"],
      ];
      return reply.html(
        <Layout page={pageContext(request, reply)} title="Admin dashboard">
          <p>
            <a href="/admin/rounds">Rounds of the day</a>: every interview and test batch today,
            across companies.
          </p>
          <p>
            <a href="/admin/offers">Offers</a>: every offer and its answer; record pre-placement and
            off-campus offers.
          </p>
          <p>
            <a href="/admin/reports/season">Season report</a>: placement rate, packages and offers
            per department and company, with the students not placed yet (CSV, printable).
          </p>
          <form method="get" action="/admin" class="filters" aria-label="Filter the dashboard">
            <DepartmentFilter selected={filters.department} />
            <label>
              Graduation year{" "}
              <input type="number" name="year" value={filters.year?.toString() ?? ""} />
            </label>
            <label>
              Semester{" "}
              <input
                type="number"
                name="semester"
                min="1"
                max="10"
                value={filters.semester?.toString() ?? ""}
              />
            </label>
            <label>
              Company
              <select name="company">
                <option value="">All</option>
                {d.companies.map((c) => (
                  <option value={c} selected={filters.company === c} safe>
                    {c}
                  </option>
                ))}
              </select>
            </label>
            <button type="submit">Filter</button>
          </form>
          <ul class="counters">
            {counters.map(([one, many, value, href]) => (
              <li>
                <a href={href}>
                  <strong safe>{formatNumber(value)}</strong>{" "}
                  <span safe>{pluralWord(value, one, many)}</span>
                </a>
              </li>
            ))}
          </ul>
          <p class="small">
            <a href="/admin/sms/templates">SMS templates and DLT ids</a> ·{" "}
            <a href="/admin/policies">Placement policy by graduation year</a>
          </p>
          <h2>Placement summary by department</h2>
          {d.departments.length === 0 ? (
            <p class="empty">No approved students yet.</p>
          ) : (
            // Scrolls sideways on a phone: focusable, so a keyboard can scroll it too.
            <section class="table-wrap" aria-label="Placement summary by department" tabindex="0">
              <table class="summary">
                <thead>
                  <tr>
                    <th scope="col">Department</th>
                    <th scope="col">Students</th>
                    <th scope="col">Applied</th>
                    <th scope="col">Selected</th>
                    <th scope="col">Placement rate</th>
                  </tr>
                </thead>
                <tbody>
                  {d.departments.map((row) => (
                    <tr>
                      <th scope="row" safe>
                        {row.department}
                      </th>
                      <td safe>{formatNumber(row.students)}</td>
                      <td safe>{formatNumber(row.applied)}</td>
                      <td safe>{formatNumber(row.selected)}</td>
                      <td>
                        <span class="bar" role="img" aria-label={`${percent(row.rate)} placed`}>
                          <span class="bar-fill" style={`width: ${(row.rate * 100).toFixed(1)}%`} />
                        </span>{" "}
                        <span safe>{percent(row.rate)}</span>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </section>
          )}
        </Layout>,
      );
    },
  );
}

/** Jobs and applications the student dashboard shows; the lists it links to show the rest. */
const DASHBOARD_ROWS = 10;

export async function studentDashboardRoutes(
  app: FastifyInstance,
  options: { calendarKey: Buffer },
) {
  const ctx = app.ctx;
  app.addHook("onRequest", requireRole("student"));

  app.get("/", async (request, reply) => {
    const studentId = currentStudentId(request);
    const student = await findStudent(ctx, studentId);
    if (!student) throw new HttpError(404, "Your profile was not found.");
    // Every application, read once: the first few are shown, and all of them mark the jobs
    // applied to (one statement fewer than asking the job list to read the statuses again).
    const [announcements, applications, rounds, offers] = await Promise.all([
      announcementsForStudent(ctx, studentId, 5),
      studentApplications(ctx, studentId, 1, { pageSize: "all", timelines: false }),
      studentSlots(ctx.db, studentId, { from: ctx.clock.now(), limit: DASHBOARD_ROWS }),
      offersOfStudent(ctx, studentId),
    ]);
    const calendar = feedPath(options.calendarKey, studentId, student.calendar_feed_version);
    const jobs = await jobsForStudent(
      ctx,
      studentId,
      { eligibleOnly: true, page: 1 },
      {
        student,
        applied: new Map(applications.map((a) => [a.job_id, a.status])),
        pageSize: DASHBOARD_ROWS,
        jobsVersion: request.user?.openJobsVersion,
      },
    );
    const page = pageContext(request, reply);
    return reply.html(
      <Layout page={page} title={`Welcome, ${student.full_name.split(" ")[0]}`}>
        {student.semester === null ? <SetSemesterNotice /> : null}
        <StudentOffersCard offers={offers} now={ctx.clock.now()} />
        <section class="card">
          <h2>Announcements</h2>
          {announcements.length === 0 ? (
            <p class="empty">No announcements.</p>
          ) : (
            announcements.map((a) => (
              <article class="announcement">
                <h3 safe>{a.title}</h3>
                <p class="hint" safe>
                  {formatDateTime(a.posted_at)}
                </p>
                <p class="pre" safe>
                  {a.message}
                </p>
              </article>
            ))
          )}
        </section>
        <section>
          {/* The same query as the list it links to, so the two always agree. */}
          <h2 safe>{`Jobs you can apply to (${formatNumber(jobs.total)})`}</h2>
          {jobs.eligible.length === 0 ? (
            <p class="empty">Nothing new to apply to.</p>
          ) : (
            <JobCards rows={jobs.eligible} showReasons={false} />
          )}
          <p>
            {jobs.total > 0 ? (
              <>
                <a href="/student/jobs?eligible=1" safe>
                  {`See ${jobs.total === 1 ? "it" : `all ${formatNumber(jobs.total)}`} in the job list`}
                </a>
                {" · "}
              </>
            ) : null}
            <a href="/student/jobs">All jobs</a>
          </p>
        </section>
        <section class="card" id="calendar">
          <h2>Upcoming rounds</h2>
          {rounds.length === 0 ? (
            <p class="empty">No rounds scheduled for you yet.</p>
          ) : (
            <StudentSlotList slots={rounds} />
          )}
          <p>
            <a href={calendar}>Subscribe to your rounds calendar (.ics)</a>
            <span class="hint">
              {" "}
              Add this address to Google Calendar, Outlook or your phone: your rounds appear and
              stay up to date. Keep it to yourself.
            </span>
          </p>
          <form method="post" action="/student/calendar/reset" class="inline">
            <CsrfField token={page.csrfToken} />
            <button type="submit" class="link">
              Make a new address (the old one stops working)
            </button>
          </form>
        </section>
        <section>
          <h2>My applications</h2>
          <ApplicationsTable
            applications={applications.slice(0, DASHBOARD_ROWS)}
            page={page}
            timeline={false}
            now={ctx.clock.now()}
          />
          <p>
            <a href="/student/applications">Timelines and withdrawal</a>
          </p>
        </section>
        <section class="card">
          <h2>Your profile</h2>
          <AcademicSummary student={student} />
          <p>
            <a href="/student/profile">Edit your phone, skills or resume</a>
            {student.resume_size !== null ? (
              <>
                {" · "}
                <a href="/student/resume">View your resume</a>
              </>
            ) : null}
          </p>
        </section>
      </Layout>,
    );
  });
}
