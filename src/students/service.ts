import {
  type Expression,
  type ExpressionBuilder,
  type SelectQueryBuilder,
  type SqlBool,
  sql,
} from "kysely";
import { z } from "zod";
import { hashPassword, MIN_PASSWORD_LENGTH } from "../accounts/password.ts";
import { normaliseEmail } from "../accounts/service.ts";
import { type Actor, recordAudit } from "../audit/service.ts";
import type { AppContext } from "../context.ts";
import {
  containsPattern,
  ftsPhrase,
  isUniqueViolation,
  likeOperator,
  lockForUpdate,
  trigramSearch,
} from "../db/dialect.ts";
import { type ParamOf, preparedRead } from "../db/prepared.ts";
import type { DB, Student } from "../db/schema.ts";
import { DEPARTMENT_CODES } from "../placement/departments.ts";
import { signalQueued } from "../sms/outbox-api.ts";
import { formatPhoneE164, InvalidPhoneNumberError } from "../sms/phone.ts";
import {
  blankAsNull,
  decimalField,
  type FieldErrors,
  multilineTextField,
  textField,
  wholeNumberField,
} from "../web/forms.ts";
import { notifyStudentApproved, notifyStudentRejected } from "./notices.ts";
import {
  chosenFile,
  putResume,
  resumeProblem,
  resumeSize,
  type UploadedFile,
} from "./resume-store.ts";

/** Phone as typed -> E.164, or a field error in words a student understands. */
const phoneField = (region: string) =>
  z.string({ message: "Enter a mobile number." }).transform((raw, zctx) => {
    try {
      return formatPhoneE164(raw, region);
    } catch (error) {
      zctx.addIssue({
        code: "custom",
        message:
          error instanceof InvalidPhoneNumberError ? error.reason : "Enter a valid mobile number.",
      });
      return z.NEVER;
    }
  });

/** The academic record: set at registration, afterwards changed by admins only. */
function academicFields(now: Date) {
  const year = now.getUTCFullYear();
  return {
    department: z.enum(DEPARTMENT_CODES, { message: "Choose the department." }),
    semester: blankAsNull(wholeNumberField({ label: "the semester", min: 1, max: 10 })),
    graduation_year: wholeNumberField({
      label: "the graduation year",
      min: year - 1,
      max: year + 6,
    }),
    cgpa: decimalField({ label: "the CGPA", min: 0, max: 10, places: 2 }),
    active_backlogs: wholeNumberField({
      label: "the number of active backlogs",
      min: 0,
      max: 60,
    }),
  };
}

const skillsField = multilineTextField({ label: "your skills", max: 500, optional: true });

/** At registration a semester is required: jobs may be limited to semesters (see placement/eligibility.ts). */
const requiredSemester = wholeNumberField({ label: "your current semester", min: 1, max: 10 });

export function registrationSchema(region: string, now: Date) {
  return z
    .object({
      full_name: textField({ label: "your full name", max: 100, min: 2 }),
      roll_number: textField({ label: "your roll number (USN)", max: 20, min: 3 })
        .transform((v) => v.toUpperCase().replace(/\s+/g, ""))
        .refine((v) => /^[A-Z0-9/-]+$/.test(v), {
          message: "A roll number has only letters, digits, / and -.",
        }),
      email: z
        .string({ message: "Enter your email address." })
        .trim()
        .pipe(z.email({ message: "Enter a valid email address." }))
        .transform(normaliseEmail),
      password: z
        .string({ message: "Choose a password." })
        .min(MIN_PASSWORD_LENGTH, { message: `Use at least ${MIN_PASSWORD_LENGTH} characters.` })
        .max(200, { message: "Use at most 200 characters." }),
      password_confirm: z.string({ message: "Repeat the password." }),
      phone: phoneField(region),
      ...academicFields(now),
      semester: requiredSemester,
      skills: skillsField,
    })
    .refine((f) => f.password === f.password_confirm, {
      path: ["password_confirm"],
      message: "The two passwords do not match.",
    });
}

export function academicSchema(now: Date) {
  return z.object(academicFields(now));
}

export type AcademicInput = z.output<ReturnType<typeof academicSchema>>;

export type RegistrationInput = z.output<ReturnType<typeof registrationSchema>>;

export type ServiceResult<T = undefined> =
  | { ok: true; value: T }
  | { ok: false; errors: FieldErrors };

/** The uploaded resume checked, to store with the student row; `data` null when none was chosen. */
async function checkResume(
  ctx: AppContext,
  upload: unknown,
  options: { pending?: boolean } = {},
): Promise<{ data: Buffer | null } | { error: string }> {
  const file: UploadedFile | null = chosenFile(upload);
  if (!file) return { data: null };
  const problem = await resumeProblem(file, ctx.config.RESUME_MAX_BYTES);
  if (problem) return { error: problem };
  if (
    options.pending &&
    (await pendingResumeBytes(ctx)) + file.data.length > ctx.config.PENDING_RESUMES_MAX_BYTES
  )
    return { error: PENDING_RESUMES_FULL };
  return { data: file.data };
}

export const PENDING_RESUMES_FULL =
  "The placement office cannot take more resumes until it has checked the waiting registrations. Register without a resume now and add it from your profile once you are approved.";

/**
 * The space used by the resumes of registrations waiting for approval: anonymous uploads, capped
 * by PENDING_RESUMES_MAX_BYTES. (Two registrations at the same moment may both pass the check:
 * the cap can be exceeded by a few resumes, never by an unbounded number.)
 */
export async function pendingResumeBytes(ctx: AppContext): Promise<number> {
  const row = await ctx.db
    .selectFrom("students")
    .innerJoin("resumes", "resumes.student_id", "students.id")
    .select((eb) => eb.fn.sum<number | string | null>("resumes.size").as("bytes"))
    .where("students.approved_at", "is", null)
    .executeTakeFirstOrThrow();
  return Number(row.bytes ?? 0);
}

/** Registers a student as pending approval. Nothing is half-created: user, profile and resume or none. */
export async function registerStudent(
  ctx: AppContext,
  input: RegistrationInput,
  resumeUpload: unknown,
): Promise<ServiceResult<{ studentId: number }>> {
  const taken = await ctx.db
    .selectFrom("users")
    .leftJoin("students", "students.user_id", "users.id")
    .select(["users.email", "students.roll_number"])
    .where((eb) =>
      eb.or([
        eb("users.email", "=", input.email),
        eb("students.roll_number", "=", input.roll_number),
      ]),
    )
    .execute();
  const errors: FieldErrors = {};
  if (taken.some((r) => r.email === input.email)) {
    errors.email = "An account with this email already exists. Log in, or use another email.";
  }
  if (taken.some((r) => r.roll_number === input.roll_number)) {
    errors.roll_number =
      "This roll number is already registered. Contact the placement office if this is yours.";
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };

  const resume = await checkResume(ctx, resumeUpload, { pending: true });
  if ("error" in resume) return { ok: false, errors: { resume: resume.error } };
  const passwordHash = await hashPassword(input.password);
  const now = ctx.clock.now().toISOString();
  try {
    const studentId = await ctx.db.transaction().execute(async (trx) => {
      const user = await trx
        .insertInto("users")
        .values({
          email: input.email,
          password_hash: passwordHash,
          role: "student",
          created_at: now,
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      const student = await trx
        .insertInto("students")
        .values({
          user_id: user.id,
          full_name: input.full_name,
          roll_number: input.roll_number,
          phone_e164: input.phone,
          department: input.department,
          semester: input.semester ?? null,
          graduation_year: input.graduation_year,
          cgpa: input.cgpa,
          active_backlogs: input.active_backlogs,
          skills: input.skills,
          created_at: now,
          updated_at: now,
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      if (resume.data) await putResume(trx, student.id, resume.data, now);
      return student.id;
    });
    ctx.log.info({ studentId }, "student registered");
    return { ok: true, value: { studentId } };
  } catch (error) {
    // Two registrations racing past the check above: the constraint decides, with the same words.
    if (isUniqueViolation(error, "email")) {
      return { ok: false, errors: { email: "An account with this email already exists." } };
    }
    if (isUniqueViolation(error, "roll_number")) {
      return { ok: false, errors: { roll_number: "This roll number is already registered." } };
    }
    throw error;
  }
}

export type QueueStatus = "pending" | "approved" | "all";

/** The queue's sortable columns (the `?sort=` whitelist) and the column each one orders by. */
export const STUDENT_SORTS = {
  name: "students.full_name",
  roll: "students.roll_number",
  department: "students.department",
  year: "students.graduation_year",
  cgpa: "students.cgpa",
  registered: "students.created_at",
  approved: "students.approved_at",
} as const;
export type StudentSort = keyof typeof STUDENT_SORTS;
export type SortDirection = "asc" | "desc";

export interface StudentFilters {
  status: QueueStatus;
  q?: string | undefined;
  department?: string | undefined;
  year?: number | undefined;
  /** Absent: the queue's own order (oldest registration first; newest first for the others). */
  sort?: StudentSort | undefined;
  dir?: SortDirection | undefined;
  page: number;
}

export const STUDENTS_PAGE_SIZE = 25;

/**
 * A search counts its matches up to here and then says "more than": an exact count of a common
 * surname reads every match to print a number nobody pages through; past a thousand, the admin
 * narrows the search instead.
 */
export const SEARCH_COUNT_LIMIT = 1000;

/**
 * The list's two queries but the rows': the ids of the page, in the list's order, and the count
 * of every match. Exported for the plan test (each reads an index in the list's order).
 */
export function studentListQueries(
  ctx: AppContext,
  filters: StudentFilters,
  options: { searchInListOrder?: boolean } = {},
) {
  const q = filters.q?.trim();
  const filtered = (searchInListOrder: boolean | undefined, fromCandidates = false) => {
    // From the FTS table's candidates, joined to their students: they stream, so a capped count
    // stops at its cap (an `id in (...)` would gather every candidate first). Only students'
    // columns are filtered on below.
    let query = fromCandidates
      ? (ctx.db
          .selectFrom("students_search")
          .innerJoin("students", "students.id", "students_search.rowid")
          .where(
            sql<boolean>`students_search match ${ftsPhrase(q ?? "")}`,
          ) as unknown as SelectQueryBuilder<DB, "students", object>)
      : ctx.db.selectFrom("students");
    if (filters.status === "pending") query = query.where("students.approved_at", "is", null);
    if (filters.status === "approved") query = query.where("students.approved_at", "is not", null);
    if (filters.department) query = query.where("students.department", "=", filters.department);
    if (filters.year) query = query.where("students.graduation_year", "=", filters.year);
    if (q && fromCandidates) query = query.where((eb) => searchRecheck(ctx, eb, q));
    else if (q) query = query.where((eb) => studentSearch(ctx, eb, q, searchInListOrder));
    return query;
  };
  const query = filtered(options.searchInListOrder);
  // Without a sort asked for: the queue oldest first (first come, first served), the others newest.
  const direction: SortDirection =
    filters.dir ?? (filters.sort || filters.status !== "pending" ? "desc" : "asc");
  const sortColumn = STUDENT_SORTS[filters.sort ?? "registered"];
  const tieBreak = filters.status === "pending" ? "asc" : "desc";
  // Registration time twice would be the same order: once lets the planner see the index's.
  const order: Array<[(typeof STUDENT_SORTS)[StudentSort], SortDirection]> =
    sortColumn === "students.created_at"
      ? [["students.created_at", direction]]
      : [
          [sortColumn, direction],
          ["students.created_at", tieBreak],
        ];
  // The page's ids first, from an index in the list's order (earlier pages skipped on the index
  // alone, never sorting every match), then their rows and emails: 25 lookups, not one per match.
  let pageIds = query.select("students.id");
  for (const [column, dir] of order) pageIds = pageIds.orderBy(column, dir);
  pageIds = pageIds
    .orderBy("students.id", direction)
    .limit(STUDENTS_PAGE_SIZE)
    .offset((filters.page - 1) * STUDENTS_PAGE_SIZE);
  // The count has no order to keep: it goes from the search's candidates (up to the cap) even
  // where the page walks the list.
  const count = q
    ? ctx.db
        .selectFrom(
          filtered(false, q !== undefined && trigramSearch(ctx.dialect, q) === "fts5")
            .select(sql<number>`1`.as("one"))
            .limit(SEARCH_COUNT_LIMIT + 1)
            .as("matches"),
        )
        .select((eb) => eb.fn.countAll<number>().as("n"))
    : summaryCount(ctx, filters);
  return { pageIds, count, order, direction };
}

/**
 * How many students the list's filters match when there is no search, from the per-(department,
 * year, semester) counts that triggers keep in the same transactions as the students (decision
 * 019): a few dozen rows at any size, where counting the matching students would read an index
 * entry per student.
 */
function summaryCount(ctx: AppContext, filters: StudentFilters) {
  let summary = ctx.db.selectFrom("placement_summary");
  if (filters.department) summary = summary.where("department", "=", filters.department);
  if (filters.year) summary = summary.where("graduation_year", "=", filters.year);
  return summary.select((eb) => {
    const counted =
      filters.status === "approved"
        ? eb.ref("approved")
        : filters.status === "pending"
          ? eb("students", "-", eb.ref("approved"))
          : eb.ref("students");
    return eb.fn.coalesce(eb.fn.sum<number>(counted), eb.lit(0)).as("n");
  });
}

/**
 * "Name, roll number or email contains `q`", the one list of searched columns for every reading of
 * the search; each reading matches the email in the form its plan needs (`email`).
 */
function nameRollOrEmail(
  ctx: AppContext,
  eb: ExpressionBuilder<DB, "students">,
  q: string,
  email: (
    like: "ilike" | "like",
    pattern: ReturnType<typeof containsPattern>,
  ) => Expression<SqlBool>,
) {
  const pattern = containsPattern(q);
  const like = likeOperator(ctx.dialect);
  return eb.or([
    eb("students.full_name", like, pattern),
    eb("students.roll_number", like, pattern),
    email(like, pattern),
  ]);
}

/** The plain LIKE of the search, for FTS candidates: the email by its student's own row. */
function searchRecheck(ctx: AppContext, eb: ExpressionBuilder<DB, "students">, q: string) {
  return nameRollOrEmail(ctx, eb, q, (like, pattern) =>
    eb(
      eb.selectFrom("users").select("users.email").whereRef("users.id", "=", "students.user_id"),
      like,
      pattern,
    ),
  );
}

/**
 * "Name, roll number or email contains `q`" (case-insensitive, `%` `_` `\\` literal), answered from
 * the trigram indexes of migration 2026-12-03f where `trigramSearch` says one can (see there):
 * exactly the students the plain LIKE below matches, without reading every student. Exported for
 * the property test that holds it to that.
 */
export function studentSearch(
  ctx: AppContext,
  eb: ExpressionBuilder<DB, "students">,
  q: string,
  inListOrder = false,
) {
  const how = trigramSearch(ctx.dialect, q);
  if (how === "pg_trgm") {
    // Each column's GIN index, OR-ed as bitmaps in one scan of students: the emails' matches are
    // read first, from their own index, as an array of user ids (`in (select ...)` would be a
    // join or a hashed subplan, which no bitmap can take part in, and the planner read every
    // student or every user instead). The GIN scans recheck each row against the ILIKE, so this
    // is the plain search, exactly.
    return nameRollOrEmail(ctx, eb, q, (like, pattern) => {
      const users = eb.selectFrom("users").select("users.id").where("users.email", like, pattern);
      return sql<SqlBool>`${sql.ref("students.user_id")} = any(array(${users}))`;
    });
  }
  if (how === "fts5") {
    // The FTS5 table's candidates (a superset: it folds case beyond ASCII), each rechecked with
    // the LIKE; the email by its own row, not `user_id in (...)`, which would read every user.
    // In list order (`+id`, which no index can serve): SQLite walks the list's own index and
    // tests each student against the candidates, stopping at the page, instead of sorting them all.
    const id = inListOrder ? sql<number>`+${sql.ref("students.id")}` : sql.ref("students.id");
    return eb.and([
      eb(
        id,
        "in",
        eb
          .selectFrom("students_search")
          .select("students_search.rowid")
          .where(sql<boolean>`students_search match ${ftsPhrase(q)}`),
      ),
      searchRecheck(ctx, eb, q),
    ]);
  }
  return plainStudentSearch(ctx, eb, q);
}

/** The search as a LIKE over every student: short searches on SQLite, and the tests' reference. */
export function plainStudentSearch(
  ctx: AppContext,
  eb: ExpressionBuilder<DB, "students">,
  q: string,
) {
  // Only a search reads the email: without one, the list and its count never touch users.
  return nameRollOrEmail(ctx, eb, q, (like, pattern) =>
    eb(
      "students.user_id",
      "in",
      eb.selectFrom("users").select("users.id").where("users.email", like, pattern),
    ),
  );
}

/**
 * From this many FTS candidates on, a search's page is found by walking the list in its order
 * (SQLite): with many matches the walk reaches a page early, where sorting them all grows with the
 * matches; a rare search would walk most of the list, so its few candidates are sorted instead.
 * Counting the candidates up to here is cheap next to either.
 */
export const DENSE_SEARCH_CANDIDATES = 2000;

export async function searchIsDense(ctx: AppContext, q: string | undefined): Promise<boolean> {
  const text = q?.trim();
  if (!text || ctx.dialect !== "sqlite" || trigramSearch(ctx.dialect, text) !== "fts5")
    return false;
  const candidates = await ctx.db
    .selectFrom(
      ctx.db
        .selectFrom("students_search")
        .select("students_search.rowid")
        .where(sql<boolean>`students_search match ${ftsPhrase(text)}`)
        .limit(DENSE_SEARCH_CANDIDATES)
        .as("candidates"),
    )
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .executeTakeFirstOrThrow();
  return Number(candidates.n) >= DENSE_SEARCH_CANDIDATES;
}

export async function listStudents(ctx: AppContext, filters: StudentFilters) {
  const searchInListOrder = await searchIsDense(ctx, filters.q);
  const {
    pageIds,
    count: countQuery,
    order,
    direction,
  } = studentListQueries(ctx, filters, { searchInListOrder });
  let page = ctx.db
    .selectFrom("students")
    .innerJoin("users", "users.id", "students.user_id")
    .where("students.id", "in", pageIds)
    .select([
      "students.id",
      "students.full_name",
      "students.roll_number",
      "students.department",
      "students.graduation_year",
      "students.cgpa",
      "students.active_backlogs",
      "students.semester",
      "students.approved_at",
      "students.created_at",
      "users.email",
    ]);
  for (const [column, dir] of order) page = page.orderBy(column, dir);
  const [rows, count] = await Promise.all([
    page.orderBy("students.id", direction).execute(),
    countQuery.executeTakeFirstOrThrow(),
  ]);
  const n = Number(count.n);
  // A search past SEARCH_COUNT_LIMIT matches: `total` is that limit and `more` says there are more.
  return { rows, total: Math.min(n, SEARCH_COUNT_LIMIT), more: n > SEARCH_COUNT_LIMIT };
}

/** A student's own row, as every student page reads it (compiled once: see db/prepared.ts). */
const studentProfile = preparedRead((db, param: ParamOf<{ studentId: number }>) =>
  db
    .selectFrom("students")
    .innerJoin("users", "users.id", "students.user_id")
    .selectAll("students")
    .select(["users.email", "users.last_login_at", resumeSize])
    .where("students.id", "=", param("studentId")),
);

export async function findStudent(ctx: AppContext, studentId: number) {
  const [row] = await studentProfile(ctx.db, { studentId });
  return row;
}

/** The pending registration that comes first in the queue's order, other than `exceptId`. */
export function nextPendingStudent(ctx: AppContext, exceptId: number) {
  return ctx.db
    .selectFrom("students")
    .select(["id", "full_name", "roll_number"])
    .where("approved_at", "is", null)
    .where("id", "!=", exceptId)
    .orderBy("created_at", "asc")
    .orderBy("id")
    .limit(1)
    .executeTakeFirst();
}

/** The pending registrations among `ids`, for the bulk rejection's confirmation page. */
export function pendingStudents(ctx: AppContext, ids: number[]) {
  if (ids.length === 0) return Promise.resolve([]);
  return ctx.db
    .selectFrom("students")
    .select(["id", "full_name", "roll_number", "phone_e164", "sms_opted_out_at"])
    .where("id", "in", ids)
    .where("approved_at", "is", null)
    .orderBy("full_name")
    .orderBy("id")
    .execute();
}

/**
 * Approves pending students: each approval and its SMS commit together. Students already approved
 * (a double click, a second admin) are left alone and counted in `unchanged`.
 */
export async function approveStudents(ctx: AppContext, actor: Actor, studentIds: number[]) {
  const ids = [...new Set(studentIds)];
  if (ids.length === 0) return { approved: [] as Student[], unchanged: 0 };
  const now = ctx.clock.now().toISOString();
  const approved = await ctx.db.transaction().execute(async (trx) => {
    const rows = await trx
      .updateTable("students")
      .set({ approved_at: now, approved_by: actor.id, updated_at: now })
      .where("id", "in", ids)
      .where("approved_at", "is", null)
      .returningAll()
      .execute();
    // RETURNING follows whichever index the plan walked: in id order, the SMS and the audit
    // entries come in the order the students registered, whatever indexes exist.
    rows.sort((x, y) => x.id - y.id);
    for (const student of rows) {
      await notifyStudentApproved(trx, ctx, student);
      await recordAudit(trx, ctx, actor, {
        action: "student.approve",
        subject: `${student.roll_number} ${student.full_name}`,
        details: {
          studentId: student.id,
          rollNumber: student.roll_number,
          name: student.full_name,
        },
      });
    }
    return rows;
  });
  if (approved.length > 0) signalQueued(ctx);
  return { approved, unchanged: ids.length - approved.length };
}

/**
 * Rejects a pending registration: queues the rejection SMS and records who rejected whom and why,
 * then deletes the user, the profile and the resume (by cascade, in the same transaction). The SMS
 * row keeps its number and text; the person can no longer log in.
 */
export async function rejectStudent(
  ctx: AppContext,
  actor: Actor,
  studentId: number,
  reason: string | undefined,
): Promise<{ rejected: Pick<Student, "full_name" | "roll_number"> | null }> {
  const rejected = await ctx.db.transaction().execute(async (trx) => {
    // Locked until commit: an approval racing this rejection waits, then finds nothing pending
    // (and a rejection waiting on an approval finds the student approved, and stops).
    const student = await lockForUpdate(
      trx
        .selectFrom("students")
        .innerJoin("users", "users.id", "students.user_id")
        .selectAll("students")
        .select("users.email")
        .where("students.id", "=", studentId)
        .where("students.approved_at", "is", null),
      ctx.dialect,
    ).executeTakeFirst();
    if (!student) return null;
    await notifyStudentRejected(trx, ctx, student, reason);
    await recordAudit(trx, ctx, actor, {
      action: "student.reject",
      subject: `${student.roll_number} ${student.full_name}`,
      details: {
        studentId: student.id,
        rollNumber: student.roll_number,
        name: student.full_name,
        email: student.email,
        reason: reason ?? null,
      },
    });
    const deleted = await trx
      .deleteFrom("users")
      .where("id", "=", student.user_id)
      .executeTakeFirst();
    // A concurrent reject of the same row deletes nothing here: let it win, undo ours.
    if (Number(deleted.numDeletedRows) !== 1) throw new Error("registration vanished mid-reject");
    return student;
  });
  if (rejected) signalQueued(ctx);
  return { rejected };
}

/** Rejects each pending registration of `studentIds` with the same reason (one transaction each). */
export async function rejectStudents(
  ctx: AppContext,
  actor: Actor,
  studentIds: number[],
  reason: string | undefined,
) {
  const rejected: Pick<Student, "full_name" | "roll_number">[] = [];
  for (const id of new Set(studentIds)) {
    const result = await rejectStudent(ctx, actor, id, reason);
    if (result.rejected) rejected.push(result.rejected);
  }
  return { rejected, unchanged: new Set(studentIds).size - rejected.length };
}

/** The last semester a batch is moved to; students there already stay. */
export const LAST_SEMESTER = 8;

export interface BatchSelection {
  department?: string | undefined;
  graduationYear: number;
}

function batchQuery(ctx: AppContext, batch: BatchSelection) {
  return ctx.db
    .selectFrom("students")
    .where("graduation_year", "=", batch.graduationYear)
    .$if(Boolean(batch.department), (q) => q.where("department", "=", batch.department!));
}

/** The words a batch is known by in the audit log and on the pages: "CSE, 2027 batch". */
export function batchName(batch: BatchSelection): string {
  return `${batch.department ?? "all departments"}, ${batch.graduationYear} batch`;
}

/** How many students of a batch the semester advance would move, and how many it leaves. */
export async function semesterAdvancePreview(ctx: AppContext, batch: BatchSelection) {
  const row = await batchQuery(ctx, batch)
    .select((eb) => [
      eb.fn.countAll<number>().as("total"),
      eb.fn
        .count<number>("students.id")
        .filterWhere("students.semester", "<", LAST_SEMESTER)
        .as("moving"),
      eb.fn.count<number>("students.id").filterWhere("students.semester", "is", null).as("blank"),
    ])
    .executeTakeFirstOrThrow();
  const total = Number(row.total);
  const moving = Number(row.moving);
  const blank = Number(row.blank);
  return { total, moving, blank, atLast: total - moving - blank };
}

/**
 * Moves a batch to the next semester, capped at LAST_SEMESTER; students with no semester are left
 * for them to set. `asOf` is when the admin saw the confirmation: if this batch was advanced after
 * that (a double click, a second admin), nothing moves again.
 */
export async function advanceSemester(
  ctx: AppContext,
  actor: Actor,
  batch: BatchSelection,
  asOf: string,
): Promise<{ moved: number; alreadyDone: boolean }> {
  const subject = batchName(batch);
  return ctx.db.transaction().execute(async (trx) => {
    const done = await trx
      .selectFrom("audit_log")
      .select("id")
      .where("action", "=", "student.advance_semester")
      .where("subject", "=", subject)
      .where("at", ">", asOf)
      .executeTakeFirst();
    if (done) return { moved: 0, alreadyDone: true };
    const now = ctx.clock.now().toISOString();
    const result = await trx
      .updateTable("students")
      .set((eb) => ({ semester: eb("semester", "+", 1), updated_at: now }))
      .where("graduation_year", "=", batch.graduationYear)
      .$if(Boolean(batch.department), (q) => q.where("department", "=", batch.department!))
      .where("semester", "<", LAST_SEMESTER)
      .executeTakeFirst();
    const moved = Number(result.numUpdatedRows);
    await recordAudit(trx, ctx, actor, {
      action: "student.advance_semester",
      subject,
      details: {
        department: batch.department ?? null,
        graduationYear: batch.graduationYear,
        moved,
      },
    });
    return { moved, alreadyDone: false };
  });
}

export function profileSchema(region: string) {
  return z.object({
    phone: phoneField(region),
    skills: skillsField,
    /** Offered only while the semester is blank: the student sets it once, admins correct it. */
    semester: academicFields(new Date()).semester,
    /** The "send me SMS" checkbox: absent when unticked. */
    sms: z
      .string()
      .optional()
      .transform((v) => v === "on"),
  });
}

export type ProfileInput = z.output<ReturnType<typeof profileSchema>>;

/** A student's own edits: phone, skills and resume. Academic fields are for admins only. */
export async function updateOwnProfile(
  ctx: AppContext,
  studentId: number,
  input: ProfileInput,
  resumeUpload: unknown,
): Promise<ServiceResult> {
  const resume = await checkResume(ctx, resumeUpload);
  if ("error" in resume) return { ok: false, errors: { resume: resume.error } };
  await ctx.db.transaction().execute(async (trx) => {
    const now = ctx.clock.now().toISOString();
    // Written first, reading nothing before: on SQLite a transaction that reads and then writes
    // fails (SQLITE_BUSY) when another connection (the dispatcher thread) commits in between.
    const updated = await trx
      .updateTable("students")
      .set((eb) => ({
        phone_e164: input.phone,
        skills: input.skills,
        // Keeps the original opt-out time while the box stays unticked.
        sms_opted_out_at: input.sms ? null : eb.fn.coalesce("sms_opted_out_at", eb.val(now)),
        updated_at: now,
        // Set by the student only while blank; admins correct it afterwards.
        ...(input.semester !== undefined
          ? { semester: eb.fn.coalesce("semester", eb.val(input.semester)) }
          : {}),
      }))
      .where("id", "=", studentId)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) throw new Error(`student ${studentId} not found`);
    // The new resume replaces the old one in the same commit: never a profile without either.
    if (resume.data) await putResume(trx, studentId, resume.data, now);
  });
  return { ok: true, value: undefined };
}

/** An admin corrects a student's academic record; the audit log keeps what changed. */
export async function updateAcademics(
  ctx: AppContext,
  actor: Actor,
  studentId: number,
  input: AcademicInput,
): Promise<{ changed: string[] } | null> {
  return ctx.db.transaction().execute(async (trx) => {
    const before = await trx
      .selectFrom("students")
      .select([
        "id",
        "roll_number",
        "full_name",
        "department",
        "semester",
        "graduation_year",
        "cgpa",
        "active_backlogs",
      ])
      .where("id", "=", studentId)
      .executeTakeFirst();
    if (!before) return null;
    const after = { ...input, semester: input.semester ?? null };
    const changes: Record<string, { from: unknown; to: unknown }> = {};
    for (const key of Object.keys(after) as (keyof typeof after)[]) {
      if (before[key] !== after[key]) changes[key] = { from: before[key], to: after[key] };
    }
    if (Object.keys(changes).length === 0) return { changed: [] };
    await trx
      .updateTable("students")
      .set({ ...after, updated_at: ctx.clock.now().toISOString() })
      .where("id", "=", studentId)
      .execute();
    await recordAudit(trx, ctx, actor, {
      action: "student.update_academics",
      subject: `${before.roll_number} ${before.full_name}`,
      details: { studentId, rollNumber: before.roll_number, name: before.full_name, changes },
    });
    return { changed: Object.keys(changes) };
  });
}
