import { type Kysely, sql } from "kysely";
import { hashPassword } from "../accounts/password.ts";
import type { AppContext } from "../context.ts";
import type { ApplicationStatus, DB, JobType, OfferStatus, OffersTable } from "../db/schema.ts";
import { inTransaction } from "../db/transaction.ts";
import { packageLakhs } from "../jobs/package.ts";
import { DEPARTMENT_CODES } from "../placement/departments.ts";
import { type EligibilityRules, meetsRules, noRules } from "../placement/eligibility.ts";
import { refreshPlacementFacts } from "../placement/placement-facts.ts";
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
  /**
   * Offers, a placement policy and jobs' package figures (default). False: none of them, for a
   * schema from before them, or a drill that wants every student in every job's audience.
   */
  season?: boolean;
}

export interface SeedResult {
  students: number;
  jobs: number;
  applications: number;
  /** Rounds scheduled over the coming two weeks. */
  rounds: number;
  /** Offers written for the season: campus (one per Selected application), PPO and off campus. */
  offers: number;
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
    const season =
      options.season === false
        ? { offers: 0 }
        : await seedSeason(trx, now, {
            studentIds,
            years: [...new Set(studentRows.map((r) => r.graduation_year))].sort(),
          });
    return {
      students: studentIds.length,
      jobs: jobs.length,
      applications: applications.length + rounds.applicationsAdded,
      rounds: rounds.rounds,
      offers: season.offers,
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

/** The demo's placement policy for each graduation year it seeds (the office's usual one). */
const DEMO_POLICY = {
  max_accepted: 1,
  tiers: JSON.stringify([
    { name: "Regular", fromLpa: 0 },
    { name: "Dream", fromLpa: 6 },
    { name: "Super dream", fromLpa: 12 },
  ]),
  placed_may_apply: "higher_tier" as const,
  package_multiple: null,
  block_on_decline: 1,
  ppo_in_campus: 0,
};

/** How a campus offer ends, by weight: most are accepted, some still open, a few withdrawn. */
const OFFER_ENDINGS: { weight: number; ending: OfferStatus | "reneged" }[] = [
  { weight: 45, ending: "accepted" },
  { weight: 15, ending: "pending" },
  { weight: 12, ending: "declined" },
  { weight: 6, ending: "reneged" },
  { weight: 18, ending: "lapsed" },
  { weight: 4, ending: "withdrawn" },
];
const ENDINGS_WEIGHT = OFFER_ENDINGS.reduce((sum, e) => sum + e.weight, 0);

const HOUR = 3600 * 1000;

type NewOffer = Omit<OffersTable, "id">;

/**
 * The season's offers (issue 24), from a random stream of their own so that every earlier draw,
 * and so every row above, stays as it was:
 * - one campus offer per Selected application of this run (role = the job's title, its location,
 *   a CTC within the job's package split into fixed and variable pay, an answer-by time and a
 *   joining date in July of the graduation year), accepted, pending, declined (some after
 *   accepting: the student's `reneged_at`), lapsed or withdrawn;
 * - a few pre-placement and off-campus offers to students without a campus offer, at most one
 *   accepted offer per student (the policy's one);
 * - the placement policy of each graduation year seeded (kept if the office already set one);
 * - then what the policy reads of each student with an offer (`refreshPlacementFacts`).
 * demo.student1, the README's login, holds a pending campus offer: if they were selected nowhere,
 * one of their applications in the running that is in no round is moved to Selected (a company's
 * final list) for it; if none is free, they get a pending PPO instead. No SMS.
 */
async function seedSeason(
  trx: Kysely<DB>,
  now: Date,
  seeded: { studentIds: number[]; years: number[] },
): Promise<{ offers: number }> {
  const random = seededRandom(24);
  const nowMs = now.getTime();
  const nowIso = now.toISOString();
  const iso = (ms: number) => new Date(Math.min(ms, nowMs)).toISOString();
  const first = seeded.studentIds[0];
  if (first === undefined) return { offers: 0 };
  const last = seeded.studentIds.at(-1)!;

  for (const year of seeded.years)
    await trx
      .insertInto("placement_policies")
      .values({ graduation_year: year, ...DEMO_POLICY, updated_by: null, updated_at: nowIso })
      .onConflict((oc) => oc.column("graduation_year").doNothing())
      .execute();

  const firstSelected = await ensureFirstSelected(trx, first, nowMs);

  const selected = await trx
    .selectFrom("applications")
    .innerJoin("jobs", "jobs.id", "applications.job_id")
    .innerJoin("students", "students.id", "applications.student_id")
    .select([
      "applications.id",
      "applications.student_id",
      "applications.job_id",
      "applications.updated_at",
      "jobs.company",
      "jobs.title",
      "jobs.location",
      "jobs.package_range",
      "jobs.package_lpa",
      "students.graduation_year",
    ])
    .where("applications.status", "=", "selected")
    .where("applications.student_id", ">=", first)
    .where("applications.student_id", "<=", last)
    .orderBy("applications.id")
    .execute();

  /** A CTC in lakh a year (a multiple of 0.5 in [low, high]) split into fixed and variable pay. */
  const pay = (low: number, high: number) => {
    const ctc = Math.max(0.5, Math.round((low + random.next() * (high - low)) * 2) / 2);
    const hundredths = Math.round(ctc * 100);
    const fixed = Math.round(hundredths * (0.8 + random.int(0, 20) / 100));
    return { ctc_lpa: ctc, fixed_lpa: fixed / 100, variable_lpa: (hundredths - fixed) / 100 };
  };
  const offers: NewOffer[] = [];
  const reneged = new Map<number, string>();
  const withOffer = new Set<number>();

  /** An offer made at `made`, ending as `ending` (a lapse or an answer only once its time came). */
  const offer = (
    base: Omit<
      NewOffer,
      | "status"
      | "answer_by"
      | "accepted_at"
      | "answered_at"
      | "withdrawn_reason"
      | "created_at"
      | "updated_at"
    >,
    made: number,
    ending: OfferStatus | "reneged",
    answerDays: number,
  ) => {
    let answerBy = made + answerDays * 24 * HOUR;
    // A lapse needs its answer-by time past; until then the offer is still open.
    if (ending === "lapsed" && answerBy >= nowMs) ending = "pending";
    if (ending === "pending" && answerBy <= nowMs) answerBy = nowMs + random.int(2, 10) * 24 * HOUR;
    const answered = Math.min(nowMs, made + random.int(1, Math.max(1, answerDays * 24 - 1)) * HOUR);
    const row: NewOffer = {
      ...base,
      status: ending === "reneged" ? "declined" : ending,
      answer_by: new Date(answerBy).toISOString(),
      accepted_at: null,
      answered_at: null,
      withdrawn_reason: null,
      created_at: iso(made),
      updated_at: iso(made),
    };
    if (ending === "accepted" || ending === "declined") {
      row.answered_at = iso(answered);
      if (ending === "accepted") row.accepted_at = row.answered_at;
      row.updated_at = row.answered_at;
    } else if (ending === "reneged") {
      row.accepted_at = iso(answered);
      row.answered_at = iso(answered + random.int(1, 5) * 24 * HOUR);
      row.updated_at = row.answered_at;
      reneged.set(base.student_id, row.answered_at);
    } else if (ending === "lapsed") {
      row.updated_at = iso(answerBy);
    } else if (ending === "withdrawn") {
      row.withdrawn_reason = "The company withdrew the role (hiring freeze).";
      row.updated_at = iso(made + random.int(1, 5) * 24 * HOUR);
    }
    offers.push(row);
    withOffer.add(base.student_id);
  };

  for (const application of selected) {
    const range = /(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)/.exec(application.package_range);
    const high = range ? Number(range[2]) : (application.package_lpa ?? 6);
    const low = range ? Number(range[1]) : high;
    let n = random.next() * ENDINGS_WEIGHT;
    let ending = OFFER_ENDINGS.at(-1)!.ending;
    for (const e of OFFER_ENDINGS) {
      n -= e.weight;
      if (n < 0) {
        ending = e.ending;
        break;
      }
    }
    const isFirst = application.id === firstSelected;
    if (isFirst) ending = "pending";
    const made = Math.min(nowMs, Date.parse(application.updated_at) + random.int(0, 48) * HOUR);
    offer(
      {
        student_id: application.student_id,
        source: "campus",
        job_id: application.job_id,
        application_id: application.id,
        company: application.company,
        role: application.title,
        location: application.location,
        ...pay(low, high),
        joining_date: `${application.graduation_year}-07-${random.pick(["01", "15"])}`,
        created_by: null,
      },
      made,
      ending,
      7,
    );
  }

  // PPOs and off-campus offers, each to a different approved student without a campus offer.
  const others = await trx
    .selectFrom("students")
    .select(["id", "graduation_year"])
    .where("id", ">=", first)
    .where("id", "<=", last)
    .where("approved_at", "is not", null)
    .orderBy("id")
    .execute();
  const pool = others.filter((s) => !withOffer.has(s.id) && s.id !== first);
  const take = () => pool.splice(random.int(0, pool.length - 1), 1)[0];
  const size = seeded.studentIds.length;
  const outside = (
    student: { id: number; graduation_year: number },
    source: "ppo" | "off_campus",
    ending: OfferStatus,
  ) => {
    const title = random.pick(TITLES.filter((t) => !/\bIntern\b/.test(t)));
    const made =
      nowMs - random.int(source === "ppo" ? 60 : 5, source === "ppo" ? 150 : 40) * 24 * HOUR;
    offer(
      {
        student_id: student.id,
        source,
        job_id: null,
        application_id: null,
        company: random.pick(COMPANIES),
        role: title,
        location: random.pick(["Bengaluru", "Pune", "Hyderabad", "Chennai", "Remote"]),
        ...(source === "ppo" ? pay(6, 20) : pay(3, 16)),
        joining_date: `${student.graduation_year}-07-01`,
        created_by: null,
      },
      made,
      ending,
      14,
    );
  };
  const endingOf = (accepted: number, pending: number): OfferStatus => {
    const r = random.next();
    return r < accepted ? "accepted" : r < accepted + pending ? "pending" : "declined";
  };
  for (let i = 0; i < Math.max(3, Math.round(size * 0.01)) && pool.length > 0; i++)
    outside(take()!, "ppo", endingOf(0.7, 0.15));
  for (let i = 0; i < Math.max(3, Math.round(size * 0.015)) && pool.length > 0; i++)
    outside(take()!, "off_campus", endingOf(0.6, 0.2));
  if (firstSelected === null) {
    const student = others.find((s) => s.id === first);
    if (student) outside(student, "ppo", "pending");
  }

  await insertInBatches(offers, 500, (batch) => trx.insertInto("offers").values(batch).execute());
  for (const [studentId, at] of reneged)
    await trx.updateTable("students").set({ reneged_at: at }).where("id", "=", studentId).execute();
  await refreshPlacementFacts(trx, [...withOffer]);
  return { offers: offers.length };
}

/**
 * demo.student1's Selected application: the one they have, or one of their applications in the
 * running that is in no round, moved to Selected (prefer a job past its deadline); null if none.
 */
async function ensureFirstSelected(
  trx: Kysely<DB>,
  studentId: number,
  nowMs: number,
): Promise<number | null> {
  const selected = await trx
    .selectFrom("applications")
    .select("id")
    .where("student_id", "=", studentId)
    .where("status", "=", "selected")
    .executeTakeFirst();
  if (selected) return selected.id;
  const free = await trx
    .selectFrom("applications")
    .innerJoin("jobs", "jobs.id", "applications.job_id")
    .select(["applications.id", "applications.status", "applications.updated_at"])
    .where("applications.student_id", "=", studentId)
    .where("applications.status", "in", ["applied", "shortlisted", "interview"])
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom("round_members")
            .select("round_members.application_id")
            .whereRef("round_members.application_id", "=", "applications.id"),
        ),
      ),
    )
    .orderBy(sql`case when jobs.apply_by < ${new Date(nowMs).toISOString()} then 0 else 1 end`)
    .orderBy("applications.id")
    .executeTakeFirst();
  if (!free) return null;
  const at = new Date(Math.min(nowMs, Date.parse(free.updated_at) + 2 * 24 * HOUR)).toISOString();
  await trx
    .updateTable("applications")
    .set({ status: "selected", updated_at: at })
    .where("id", "=", free.id)
    .execute();
  await trx
    .insertInto("application_events")
    .values({
      application_id: free.id,
      from_status: free.status,
      to_status: "selected",
      by_user_id: null,
      by_role: moverOf("selected"),
      at,
    })
    .execute();
  return free.id;
}
