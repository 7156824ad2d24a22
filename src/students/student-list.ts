import {
  type Expression,
  type ExpressionBuilder,
  type SelectQueryBuilder,
  type SqlBool,
  sql,
} from "kysely";
import type { AppContext } from "../context.ts";
import { containsPattern, ftsPhrase, likeOperator, trigramSearch } from "../db/dialect.ts";
import type { DB } from "../db/schema.ts";

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

/** The verification queue in its own order, where no other place in the list was carried. */
export const DEFAULT_QUEUE: StudentFilters = { status: "pending", page: 1 };

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

/**
 * `filters` with its page brought back to the list's last page when fewer students match now (an
 * approval or rejection took the last rows of the last page); unchanged past a search's counting
 * limit, where the last page is not known.
 */
export async function clampPage(ctx: AppContext, filters: StudentFilters): Promise<StudentFilters> {
  if (filters.page <= 1) return filters;
  const { count } = studentListQueries(ctx, filters);
  const n = Number((await count.executeTakeFirstOrThrow()).n);
  if (n > SEARCH_COUNT_LIMIT) return filters;
  const last = Math.max(1, Math.ceil(n / STUDENTS_PAGE_SIZE));
  return filters.page > last ? { ...filters, page: last } : filters;
}

/** Students an export reads at a time: a batch of rows, never the whole list, in memory. */
export const STUDENT_EXPORT_BATCH = 500;

/**
 * Every student the list's filters and search match (the sort and page do not matter), in id
 * order, a batch at a time by keyset; with each, whether they are placed (selected in any job, and
 * where) and their resume's upload time. For the students CSV.
 */
export async function* studentsForExport(
  ctx: AppContext,
  filters: Omit<StudentFilters, "page" | "sort" | "dir">,
  batch = STUDENT_EXPORT_BATCH,
) {
  const q = filters.q?.trim();
  let after = 0;
  for (;;) {
    let query = ctx.db
      .selectFrom("students")
      .innerJoin("users", "users.id", "students.user_id")
      .leftJoin("resumes", "resumes.student_id", "students.id")
      .where("students.id", ">", after);
    if (filters.status === "pending") query = query.where("students.approved_at", "is", null);
    if (filters.status === "approved") query = query.where("students.approved_at", "is not", null);
    if (filters.department) query = query.where("students.department", "=", filters.department);
    if (filters.year) query = query.where("students.graduation_year", "=", filters.year);
    if (q) query = query.where((eb) => studentSearch(ctx, eb as never, q));
    const rows = await query
      .select([
        "students.id",
        "students.roll_number",
        "students.full_name",
        "users.email",
        "students.phone_e164",
        "students.department",
        "students.semester",
        "students.graduation_year",
        "students.cgpa",
        "students.active_backlogs",
        "students.skills",
        "students.approved_at",
        "students.created_at",
        "students.sms_opted_out_at",
        "students.selected_count",
        "students.resume_path",
        "resumes.uploaded_at as resume_uploaded_at",
      ])
      .orderBy("students.id")
      .limit(batch)
      .execute();
    if (rows.length === 0) return;
    // Where each placed student of the batch was selected: one query for the batch.
    const placed = rows.filter((r) => Number(r.selected_count) > 0).map((r) => r.id);
    const selections =
      placed.length === 0
        ? []
        : await ctx.db
            .selectFrom("applications")
            .innerJoin("jobs", "jobs.id", "applications.job_id")
            .where("applications.student_id", "in", placed)
            .where("applications.status", "=", "selected")
            .select(["applications.student_id", "jobs.company", "jobs.title"])
            .orderBy("applications.student_id")
            .orderBy("applications.updated_at")
            .orderBy("applications.id")
            .execute();
    const placedAt = new Map<number, string[]>();
    for (const s of selections)
      placedAt.set(s.student_id, [
        ...(placedAt.get(s.student_id) ?? []),
        `${s.company} – ${s.title}`,
      ]);
    for (const row of rows) yield { ...row, placed_at: placedAt.get(row.id) ?? [] };
    if (rows.length < batch) return;
    after = rows[rows.length - 1]!.id;
  }
}
