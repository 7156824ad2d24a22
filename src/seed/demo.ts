import { type Kysely, sql } from "kysely";
import { hashPassword } from "../accounts/password.ts";
import type { AppContext } from "../context.ts";
import type { ApplicationStatus, DB, JobType } from "../db/schema.ts";
import { inTransaction } from "../db/transaction.ts";
import { packageLakhs } from "../jobs/package.ts";
import { DEPARTMENT_CODES } from "../placement/departments.ts";
import { type EligibilityRules, meetsRules, noRules } from "../placement/eligibility.ts";
import { moverOf } from "../placement/stages.ts";
import { indiaMidnight } from "../sms/time-of-day.ts";
import { type SeededRandom, seededRandom } from "./random.ts";

/**
 * Demo data for local use and benchmarks: students, jobs and applications in bulk inserts. It
 * queues no SMS. Deterministic (a seeded generator), so two runs build the same data.
 *
 * Demo students can never be texted: each is opted out of SMS, and each has a number no carrier
 * routes (see demoPhoneNumber), so even a portal later given Twilio credentials, or a student
 * opted back in, reaches no stranger.
 */

export interface SeedOptions {
  students: number;
  jobs: number;
  applications: number;
  /** The password of every demo student (one hash, computed once). */
  password: string;
  /** Schedule rounds for some applicants (default); false on a schema from before them. */
  rounds?: boolean;
  /** Offers, a placement policy and jobs' package figures; false on a schema from before them. */
  season?: boolean;
}

export interface SeedResult {
  students: number;
  jobs: number;
  applications: number;
  /** Rounds scheduled over the coming two weeks. */
  rounds: number;
  firstStudentEmail: string | null;
  seconds: number;
}

const FIRST = [
  "Aarav",
  "Ananya",
  "Arjun",
  "Diya",
  "Ishaan",
  "Kavya",
  "Nikhil",
  "Pooja",
  "Rahul",
  "Sneha",
  "Tanvi",
  "Varun",
  "Meera",
  "Rohan",
  "Shreya",
  "Karthik",
];
const LAST = [
  "Sharma",
  "Rao",
  "Iyer",
  "Nair",
  "Patil",
  "Reddy",
  "Menon",
  "Kulkarni",
  "Das",
  "Gupta",
  "Shetty",
  "Joshi",
  "Hegde",
  "Pillai",
];
const COMPANIES = [
  "Infosys",
  "TCS",
  "Wipro",
  "Accenture",
  "Bosch",
  "Capgemini",
  "Deloitte",
  "Siemens",
  "L&T",
  "HCLTech",
  "Cognizant",
  "IBM",
  "Oracle",
  "SAP Labs",
  "Amazon",
  "Microsoft",
  "Intel",
  "Texas Instruments",
  "Mercedes-Benz R&D",
  "Tata Motors",
];
const TITLES = [
  "Systems Engineer",
  "Graduate Engineer Trainee",
  "Software Developer",
  "Analyst",
  "Design Engineer",
  "Data Engineer",
  "Associate Consultant",
  "Embedded Engineer",
  "Summer Intern",
  "Project Engineer",
];
/** A title with "Intern" is an internship; every other title is a full-time job. */
function typeOfTitle(title: string, random: SeededRandom): JobType {
  return /\bIntern\b/.test(title) ? "internship" : random.next() < 0.8 ? "placement" : "drive";
}

/**
 * Where an application's timeline ends, each path from Applied along the allowed stages
 * (placement/stages.ts): most stay early, some are decided, a few withdrawn by the student.
 */
const PATHS: { weight: number; path: ApplicationStatus[] }[] = [
  { weight: 30, path: ["applied"] },
  { weight: 12, path: ["applied", "shortlisted"] },
  { weight: 8, path: ["applied", "shortlisted", "interview"] },
  { weight: 6, path: ["applied", "shortlisted", "interview", "selected"] },
  { weight: 14, path: ["applied", "rejected"] },
  { weight: 8, path: ["applied", "shortlisted", "rejected"] },
  { weight: 6, path: ["applied", "shortlisted", "interview", "rejected"] },
  { weight: 6, path: ["applied", "withdrawn"] },
  { weight: 2, path: ["applied", "shortlisted", "withdrawn"] },
];
const PATH_WEIGHTS = PATHS.reduce((sum, p) => sum + p.weight, 0);

function pickPath(random: SeededRandom): ApplicationStatus[] {
  let n = random.next() * PATH_WEIGHTS;
  for (const { weight, path } of PATHS) {
    n -= weight;
    if (n < 0) return path;
  }
  return PATHS[0]!.path;
}

const DAY = 24 * 3600 * 1000;

/**
 * Area codes for demo numbers. In North America 555-0100 to 555-0199 is reserved for fiction in
 * every area code: libphonenumber takes +1 AAA 555 01XX as a valid number that can take an SMS
 * (so the profile form accepts it), but no carrier routes it.
 */
const FICTIONAL_AREA_CODES = [
  201, 202, 206, 212, 213, 303, 305, 312, 404, 415, 503, 512, 602, 617, 646, 702, 713, 718, 801,
  917,
];

/** The n-th demo number (2,000 distinct ones; more students share them): +1 AAA 555 01XX. */
export function demoPhoneNumber(n: number): string {
  const area = FICTIONAL_AREA_CODES[Math.floor(n / 100) % FICTIONAL_AREA_CODES.length]!;
  return `+1${area}55501${String(n % 100).padStart(2, "0")}`;
}

/** True for a number in the fictional 555-01XX block that demo students get. */
export function isFictionalNumber(e164: string): boolean {
  return /^\+1[2-9]\d{2}55501\d{2}$/.test(e164);
}

async function insertInBatches<T>(
  rows: T[],
  size: number,
  insert: (batch: T[]) => Promise<unknown>,
) {
  for (let i = 0; i < rows.length; i += size) await insert(rows.slice(i, i + size));
}

export async function seedDemo(ctx: AppContext, options: SeedOptions): Promise<SeedResult> {
  const started = performance.now();
  const random = seededRandom(2026);
  const passwordHash = await hashPassword(options.password);
  const now = ctx.clock.now();
  const nowIso = now.toISOString();
  const year = now.getUTCFullYear();
  // Numbered after the demo students of earlier runs (unique emails and roll numbers), and from
  // 1 on the first: the README's example login is demo.student1, whatever admins exist.
  const existing = await ctx.db
    .selectFrom("users")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("email", "like", "demo.student%@college.test")
    .executeTakeFirstOrThrow();
  const offset = Number(existing.n);

  const result = await inTransaction(ctx.db, async (trx: Kysely<DB>) => {
    const users = Array.from({ length: options.students }, (_, i) => ({
      email: `demo.student${offset + i + 1}@college.test`,
      password_hash: passwordHash,
      role: "student" as const,
      created_at: nowIso,
    }));
    const userIds: number[] = [];
    await insertInBatches(users, 500, async (batch) => {
      const rows = await trx.insertInto("users").values(batch).returning("id").execute();
      userIds.push(...rows.map((r) => r.id));
    });
    const studentRows = userIds.map((userId, i) => {
      const graduation = year + random.int(0, 2);
      return {
        user_id: userId,
        full_name: `${random.pick(FIRST)} ${random.pick(LAST)}`,
        roll_number: `DEMO${String(offset + i + 1).padStart(6, "0")}`,
        phone_e164: demoPhoneNumber(offset + i),
        department: random.pick(DEPARTMENT_CODES),
        semester: Math.max(1, Math.min(8, 8 - (graduation - year) * 2 - random.int(0, 1))),
        graduation_year: graduation,
        cgpa: Math.round((5 + random.next() * 5) * 100) / 100,
        active_backlogs: random.next() < 0.8 ? 0 : random.int(1, 4),
        skills: "",
        // demo.student1, the README's example login, is always approved.
        approved_at: random.next() < 0.95 || offset + i === 0 ? nowIso : null,
        sms_opted_out_at: nowIso,
        created_at: nowIso,
        updated_at: nowIso,
      };
    });
    const studentIds: number[] = [];
    await insertInBatches(studentRows, 500, async (batch) => {
      const rows = await trx.insertInto("students").values(batch).returning("id").execute();
      studentIds.push(...rows.map((r) => r.id));
    });

    // Each job with its eligibility rule, kept to choose its applicants by the portal's own rule.
    const jobs: { id: number; rules: EligibilityRules; applyBy: number; postedAt: number }[] = [];
    for (let i = 0; i < options.jobs; i++) {
      const applyBy = now.getTime() + random.int(-60, 60) * DAY;
      // Posted well before its deadline (and before today), so every applicant applied in time.
      const postedAt = Math.min(now.getTime(), applyBy) - 40 * DAY;
      const title = random.pick(TITLES);
      const rules: EligibilityRules = {
        ...noRules,
        minCgpa: random.next() < 0.6 ? random.pick([6, 6.5, 7, 7.5, 8]) : null,
        maxBacklogs: random.next() < 0.5 ? random.int(0, 2) : null,
      };
      // Drawn in the order the rows always took them, so a seed gives the portal it always gave.
      const company = random.pick(COMPANIES);
      const type = typeOfTitle(title, random);
      const location = random.pick([
        "Bengaluru",
        "Pune",
        "Hyderabad",
        "Chennai",
        "Mysuru",
        "Remote",
      ]);
      const packageRange = `${random.int(3, 12)}-${random.int(13, 24)} LPA`;
      const job = await trx
        .insertInto("jobs")
        .values({
          company,
          title,
          type,
          description: "Demo job created by portal seed.",
          location,
          package_range: packageRange,
          ...(options.season === false ? {} : { package_lpa: packageLakhs(packageRange) }),
          official_link: null,
          min_cgpa: rules.minCgpa,
          max_backlogs: rules.maxBacklogs,
          apply_by: new Date(applyBy).toISOString(),
          status: random.next() < 0.85 ? "open" : "closed",
          posted_by: null,
          created_at: new Date(postedAt).toISOString(),
          updated_at: new Date(postedAt).toISOString(),
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      if (random.next() < 0.5) {
        rules.departments = [
          ...new Set(Array.from({ length: random.int(1, 4) }, () => random.pick(DEPARTMENT_CODES))),
        ];
        await trx
          .insertInto("job_departments")
          .values(rules.departments.map((department) => ({ job_id: job.id, department })))
          .execute();
      }
      jobs.push({ id: job.id, rules, applyBy, postedAt });
    }

    // Applicants only among the approved students each job's rule admits (placement/eligibility.ts).
    const approved = studentIds
      .map((id, i) => ({ id, facts: studentRows[i]! }))
      .filter((s) => s.facts.approved_at !== null);
    const eligible = jobs.map((job) =>
      approved.filter((s) => meetsRules(job.rules, s.facts)).map((s) => s.id),
    );
    // The pairs (job, eligible student) numbered 0..pairs-1; `firstPair[j]` is job j's first.
    const firstPair: number[] = [];
    let pairs = 0;
    for (const list of eligible) {
      firstPair.push(pairs);
      pairs += list.length;
    }
    const target = Math.min(options.applications, pairs);
    const chosen: number[] = [];
    if (target * 2 >= pairs) {
      // Most pairs are wanted: a partial shuffle of all of them.
      const all = Int32Array.from({ length: pairs }, (_, k) => k);
      for (let k = 0; k < target; k++) {
        const other = random.int(k, pairs - 1);
        [all[k], all[other]] = [all[other]!, all[k]!];
        chosen.push(all[k]!);
      }
    } else {
      const seen = new Set<number>();
      while (chosen.length < target) {
        const k = random.int(0, pairs - 1);
        if (seen.has(k)) continue;
        seen.add(k);
        chosen.push(k);
      }
    }

    // Each application's timeline: Applied (before the deadline), then along the allowed stages,
    // a few days apart, never after now; at most one Selected per student (one offer each).
    const selectedStudents = new Set<number>();
    const timelines = new Map<string, { status: ApplicationStatus; at: string }[]>();
    const applications: {
      job_id: number;
      student_id: number;
      status: ApplicationStatus;
      created_at: string;
      updated_at: string;
    }[] = [];
    for (const k of chosen) {
      // The last job whose first pair is at most k (a job nobody may apply to has no pair).
      let j = 0;
      for (let lo = 0, hi = jobs.length - 1; lo <= hi; ) {
        const mid = (lo + hi) >> 1;
        if (firstPair[mid]! <= k) {
          j = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      const job = jobs[j]!;
      const student_id = eligible[j]![k - firstPair[j]!]!;
      let path = pickPath(random);
      if (path.at(-1) === "selected") {
        if (selectedStudents.has(student_id))
          path = ["applied", "shortlisted", "interview", "rejected"];
        else selectedStudents.add(student_id);
      }
      const latestApply = Math.min(now.getTime(), job.applyBy) - DAY;
      let at = Math.max(job.postedAt, latestApply - random.int(0, 30 * 24) * 3600 * 1000);
      const timeline = path.map((status, step) => {
        if (step > 0) at = Math.min(now.getTime(), at + random.int(1, 5 * 24) * 3600 * 1000);
        return { status, at: new Date(at).toISOString() };
      });
      timelines.set(`${job.id}:${student_id}`, timeline);
      applications.push({
        job_id: job.id,
        student_id,
        status: timeline.at(-1)!.status,
        created_at: timeline[0]!.at,
        updated_at: timeline.at(-1)!.at,
      });
    }
    await insertInBatches(applications, 1000, async (batch) => {
      const rows = await trx
        .insertInto("applications")
        .values(batch)
        .returning(["id", "job_id", "student_id"])
        .execute();
      const events = rows.flatMap((row) =>
        timelines.get(`${row.job_id}:${row.student_id}`)!.map((event, step, timeline) => ({
          application_id: row.id,
          from_status: step === 0 ? null : timeline[step - 1]!.status,
          to_status: event.status,
          by_user_id: null,
          by_role: moverOf(event.status),
          at: event.at,
        })),
      );
      await insertInBatches(events, 1000, (chunk) =>
        trx.insertInto("application_events").values(chunk).execute(),
      );
    });
    const rounds =
      options.rounds === false
        ? { rounds: 0, applicationsAdded: 0 }
        : await seedRounds(trx, random, now, {
            firstStudent: studentIds[0] ?? null,
            eligibleOfFirst: jobs.filter((_, j) => eligible[j]?.includes(studentIds[0] ?? -1)),
          });
    return {
      students: studentIds.length,
      jobs: jobs.length,
      applications: applications.length + rounds.applicationsAdded,
      rounds: rounds.rounds,
      firstStudentEmail: users[0]?.email ?? null,
    };
  });
  return { ...result, seconds: (performance.now() - started) / 1000 };
}

/** Jobs whose applicants the demo puts in rounds; the rest have none yet. */
const JOBS_WITH_ROUNDS = 8;
/** At most so many applicants of a job in its first round. */
const FIRST_ROUND_SIZE = 60;

/**
 * A season in progress: for a few open jobs with applicants still in the running, an aptitude
 * test (two batches) and a technical interview over the coming two weeks, India time, with the
 * applicants in the test's batches. demo.student1 is among them: if they have no application in
 * the running, one is added to a job they may apply to. No SMS: the demo queues none.
 */
async function seedRounds(
  trx: Kysely<DB>,
  random: SeededRandom,
  now: Date,
  first: { firstStudent: number | null; eligibleOfFirst: { id: number; applyBy: number }[] },
): Promise<{ rounds: number; applicationsAdded: number }> {
  const nowIso = now.toISOString();
  let applicationsAdded = 0;
  const active = ["applied", "shortlisted", "interview"] as const;
  if (first.firstStudent !== null) {
    const running = await trx
      .selectFrom("applications")
      .select("id")
      .where("student_id", "=", first.firstStudent)
      .where("status", "in", [...active])
      .executeTakeFirst();
    const open = first.eligibleOfFirst.find((j) => j.applyBy > now.getTime());
    if (!running && open) {
      const application = await trx
        .insertInto("applications")
        .values({
          job_id: open.id,
          student_id: first.firstStudent,
          status: "applied",
          created_at: nowIso,
          updated_at: nowIso,
        })
        .onConflict((oc) => oc.columns(["job_id", "student_id"]).doNothing())
        .returning("id")
        .executeTakeFirst();
      if (application) {
        applicationsAdded = 1;
        await trx
          .insertInto("application_events")
          .values({
            application_id: application.id,
            from_status: null,
            to_status: "applied",
            by_user_id: null,
            by_role: "student",
            at: nowIso,
          })
          .execute();
      }
    }
  }
  // demo.student1's jobs first, then the open jobs with the most applicants in the running.
  const firstJobs =
    first.firstStudent === null
      ? []
      : (
          await trx
            .selectFrom("applications")
            .select("job_id")
            .where("student_id", "=", first.firstStudent)
            .where("status", "in", [...active])
            .execute()
        ).map((r) => r.job_id);
  const busiest = await trx
    .selectFrom("applications")
    .innerJoin("jobs", "jobs.id", "applications.job_id")
    .select(["applications.job_id", (eb) => eb.fn.countAll<number>().as("n")])
    .where("applications.status", "in", [...active])
    .where("jobs.status", "=", "open")
    .groupBy("applications.job_id")
    .orderBy("n", "desc")
    .orderBy("applications.job_id")
    .limit(JOBS_WITH_ROUNDS)
    .execute();
  const jobIds = [...new Set([...firstJobs.slice(0, 2), ...busiest.map((b) => b.job_id)])].slice(
    0,
    JOBS_WITH_ROUNDS,
  );
  let rounds = 0;
  for (const [k, jobId] of jobIds.entries()) {
    const day = 1 + ((k * 3 + random.int(0, 2)) % 12);
    const test = indiaMidnight(now, day).getTime() + 10 * 3_600_000;
    const interview = indiaMidnight(now, day + 2).getTime() + 14 * 3_600_000;
    const applicants = await trx
      .selectFrom("applications")
      .select(["id", "student_id"])
      .where("job_id", "=", jobId)
      .where("status", "in", [...active])
      .orderBy(sql`case when student_id = ${first.firstStudent ?? -1} then 0 else 1 end`)
      .orderBy("id")
      .limit(FIRST_ROUND_SIZE)
      .execute();
    const capacity = Math.max(10, Math.ceil(applicants.length / 2) + 5);
    const [aptitude, technical] = await trx
      .insertInto("rounds")
      .values([
        {
          job_id: jobId,
          position: 1,
          name: "Aptitude test",
          kind: "test",
          duration_minutes: 60,
          venue: random.pick(["Seminar Hall 1", "Seminar Hall 2", "Computer Lab 3"]),
          meeting_link: null,
          instructions: "Bring your college ID card and a pen. Phones stay outside.",
          created_at: nowIso,
          updated_at: nowIso,
        },
        {
          job_id: jobId,
          position: 2,
          name: "Technical interview",
          kind: "interview",
          duration_minutes: 30,
          venue: "",
          meeting_link: "https://meet.example.com/demo-interview",
          instructions: "Join five minutes early with your resume open.",
          created_at: nowIso,
          updated_at: nowIso,
        },
      ])
      .returning("id")
      .execute();
    const slots = await trx
      .insertInto("round_slots")
      .values(
        [
          { round_id: aptitude!.id, starts_at: new Date(test).toISOString(), capacity },
          {
            round_id: aptitude!.id,
            starts_at: new Date(test + 90 * 60_000).toISOString(),
            capacity,
          },
          { round_id: technical!.id, starts_at: new Date(interview).toISOString(), capacity: null },
        ].map((slot) => ({ ...slot, created_at: nowIso, updated_at: nowIso })),
      )
      .returning("id")
      .execute();
    if (applicants.length > 0)
      await trx
        .insertInto("round_members")
        .values(
          applicants.map((a, i) => ({
            round_id: aptitude!.id,
            slot_id: slots[i % 2]!.id,
            student_id: a.student_id,
            application_id: a.id,
            added_at: nowIso,
          })),
        )
        .execute();
    rounds += 2;
  }
  return { rounds, applicationsAdded };
}
