import type { Kysely } from "kysely";
import { hashPassword } from "../accounts/password.ts";
import type { AppContext } from "../context.ts";
import type { ApplicationStatus, DB, JobType } from "../db/schema.ts";
import { DEPARTMENT_CODES } from "../placement/departments.ts";

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
}

export interface SeedResult {
  students: number;
  jobs: number;
  applications: number;
  firstStudentEmail: string | null;
  seconds: number;
}

function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!,
  };
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
const TYPES: JobType[] = ["placement", "internship", "drive"];
const STATUSES: ApplicationStatus[] = [
  "applied",
  "applied",
  "applied",
  "shortlisted",
  "interview",
  "selected",
  "rejected",
  "rejected",
  "withdrawn",
];

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
  const random = generator(2026);
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

  const result = await ctx.db.transaction().execute(async (trx: Kysely<DB>) => {
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

    const jobIds: number[] = [];
    for (let i = 0; i < options.jobs; i++) {
      const applyBy = new Date(
        now.getTime() + random.int(-60, 60) * 24 * 3600 * 1000,
      ).toISOString();
      const job = await trx
        .insertInto("jobs")
        .values({
          company: random.pick(COMPANIES),
          title: random.pick(TITLES),
          type: random.pick(TYPES),
          description: "Demo job created by portal seed.",
          location: random.pick(["Bengaluru", "Pune", "Hyderabad", "Chennai", "Mysuru", "Remote"]),
          package_range: `${random.int(3, 12)}-${random.int(13, 24)} LPA`,
          official_link: null,
          min_cgpa: random.next() < 0.6 ? random.pick([6, 6.5, 7, 7.5, 8]) : null,
          max_backlogs: random.next() < 0.5 ? random.int(0, 2) : null,
          apply_by: applyBy,
          status: random.next() < 0.85 ? "open" : "closed",
          posted_by: null,
          created_at: nowIso,
          updated_at: nowIso,
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      jobIds.push(job.id);
      if (random.next() < 0.5) {
        const departments = [
          ...new Set(Array.from({ length: random.int(1, 4) }, () => random.pick(DEPARTMENT_CODES))),
        ];
        await trx
          .insertInto("job_departments")
          .values(departments.map((department) => ({ job_id: job.id, department })))
          .execute();
      }
    }

    const approved = studentIds.filter((_, i) => studentRows[i]!.approved_at !== null);
    const target = Math.min(options.applications, approved.length * jobIds.length);
    const seen = new Set<string>();
    const applications: {
      job_id: number;
      student_id: number;
      status: ApplicationStatus;
      created_at: string;
      updated_at: string;
    }[] = [];
    while (applications.length < target) {
      const student_id = random.pick(approved);
      const job_id = random.pick(jobIds);
      const key = `${job_id}:${student_id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      applications.push({
        job_id,
        student_id,
        status: random.pick(STATUSES),
        created_at: nowIso,
        updated_at: nowIso,
      });
    }
    await insertInBatches(applications, 1000, async (batch) => {
      const rows = await trx
        .insertInto("applications")
        .values(batch)
        .returning(["id", "status"])
        .execute();
      await trx
        .insertInto("application_events")
        .values(
          rows.map((r) => ({
            application_id: r.id,
            from_status: r.status === "applied" ? null : ("applied" as const),
            to_status: r.status,
            by_user_id: null,
            by_role:
              r.status === "withdrawn" || r.status === "applied"
                ? ("student" as const)
                : ("admin" as const),
            at: nowIso,
          })),
        )
        .execute();
    });
    return {
      students: studentIds.length,
      jobs: jobIds.length,
      applications: applications.length,
      firstStudentEmail: users[0]?.email ?? null,
    };
  });
  return { ...result, seconds: (performance.now() - started) / 1000 };
}
