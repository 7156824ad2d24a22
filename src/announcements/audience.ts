import type { Kysely } from "kysely";
import { z } from "zod";
import {
  type AnnouncementAudience,
  APPLICATION_STATUSES,
  type ApplicationStatus,
  type DB,
} from "../db/schema.ts";
import { eligibleStudentFilter, noRules } from "../placement/eligibility.ts";
import { eligibilityListFields } from "../placement/eligibility-fields.tsx";
import { STATUS_LABELS } from "../placement/stages.ts";
import type { StudentIdQuery } from "../sms/outbox-api.ts";
import { jobName } from "../web/format.ts";
import { MAX_ID } from "../web/schemas.ts";

/**
 * Who an announcement is for: every approved student; a selection by department, graduation year
 * and semester (AND between the lists, OR within one, no tick meaning "any": the job eligibility
 * rule, read by the same SQL filter); or the applicants of one job, optionally at one stage (never
 * those who withdrew). One query selects them, for the preview, the recipients and the SMS alike.
 */

/** The stages an applicant audience can be narrowed to: every status but "withdrawn". */
export const AUDIENCE_STAGES = APPLICATION_STATUSES.filter(
  (s): s is Exclude<ApplicationStatus, "withdrawn"> => s !== "withdrawn",
);
export type AudienceStage = (typeof AUDIENCE_STAGES)[number];

/** "Shortlisted for Infosys – SDE": how each stage reads before a job's name. */
export const STAGE_WORDS: Record<AudienceStage, string> = {
  applied: "Applicants still at the applied stage",
  shortlisted: "Shortlisted",
  interview: "At the interview stage",
  selected: "Selected",
  // The stage's one name (placement/stages.ts), as every other page says it.
  rejected: STATUS_LABELS.rejected,
};

export type AudienceChoice =
  | { audience: "everyone" }
  | { audience: "students"; departments: string[]; graduationYears: number[]; semesters: number[] }
  | { audience: "applicants"; jobId: number; stage: AudienceStage | null };

/**
 * The audience fields of the announcement form (a checkbox group arrives as one value or many).
 * There is no separate "who" switch: the audience is what is ticked or picked (audienceChoice).
 */
export function audienceFields(now: Date) {
  return {
    ...eligibilityListFields(now),
    job_id: z
      .string({ message: "Choose the job." })
      .optional()
      .transform((v) => (v === undefined ? "" : v.trim()))
      .refine((v) => v === "" || /^[0-9]{1,10}$/.test(v), { message: "Choose the job." })
      .transform((v) => (v === "" ? null : Number(v)))
      .refine((v) => v === null || (v >= 1 && v <= MAX_ID), { message: "Choose the job." }),
    stage: z
      .string({ message: "Choose a stage." })
      .optional()
      .transform((v) => (v === undefined ? "" : v))
      .pipe(z.enum(["", ...AUDIENCE_STAGES], { message: "Choose a stage." }))
      .transform((v) => (v === "" ? null : v)),
  };
}

type AudienceFormValues = {
  departments: string[];
  graduation_years: number[];
  semesters: number[];
  job_id: number | null;
  stage: AudienceStage | null;
};

/** Ticks and a job together: the one contradiction the form can hold. */
export const MIXED_AUDIENCE =
  "Choose either departments, graduation years and semesters, or the applicants of one job, not both: untick the boxes, or set the job back to “No job”.";

/**
 * The audience the form describes, read from what is ticked and picked: a job picked means its
 * applicants (at the stage, if one is chosen); departments, years or semesters ticked mean those
 * students; nothing means every approved student. A job together with ticks, or a stage without a
 * job, is refused (never silently dropped).
 */
export function audienceChoice(
  values: AudienceFormValues,
): { ok: true; choice: AudienceChoice } | { ok: false; field: string; message: string } {
  const ticks =
    values.departments.length + values.graduation_years.length + values.semesters.length;
  if (values.job_id !== null && ticks > 0) {
    return { ok: false, field: "audience", message: MIXED_AUDIENCE };
  }
  if (values.job_id !== null) {
    return {
      ok: true,
      choice: { audience: "applicants", jobId: values.job_id, stage: values.stage },
    };
  }
  if (values.stage !== null) {
    return {
      ok: false,
      field: "job_id",
      message: "Choose the job whose applicants at that stage it is for, or set the stage back.",
    };
  }
  if (ticks > 0) {
    return {
      ok: true,
      choice: {
        audience: "students",
        departments: values.departments,
        graduationYears: values.graduation_years,
        semesters: values.semesters,
      },
    };
  }
  return { ok: true, choice: { audience: "everyone" } };
}

/** The ids of the approved students in the audience (opted-out ones too: they still see it). */
export function audienceStudents(db: Kysely<DB>, choice: AudienceChoice): StudentIdQuery {
  if (choice.audience === "applicants") {
    return db
      .selectFrom("students")
      .innerJoin("applications", "applications.student_id", "students.id")
      .where("applications.job_id", "=", choice.jobId)
      .where((eb) =>
        choice.stage === null
          ? eb("applications.status", "!=", "withdrawn")
          : eb("applications.status", "=", choice.stage),
      )
      .where("students.approved_at", "is not", null)
      .select("students.id");
  }
  const rules =
    choice.audience === "students"
      ? {
          ...noRules,
          departments: choice.departments,
          graduationYears: choice.graduationYears,
          semesters: choice.semesters,
        }
      : noRules;
  return db.selectFrom("students").where(eligibleStudentFilter(rules)).select("students.id");
}

/** The job an applicant audience is about, in words ("Infosys – SDE"); null when there is none. */
export async function audienceJobLabel(db: Kysely<DB>, jobId: number): Promise<string | null> {
  const job = await db
    .selectFrom("jobs")
    .select(["company", "title"])
    .where("id", "=", jobId)
    .executeTakeFirst();
  return job ? jobName(job) : null;
}

function list(values: (string | number)[]): string {
  return values.join(", ");
}

/** "Students of CSE, ECE, graduating 2027", "Shortlisted for Infosys – SDE". */
export function describeAudience(audience: {
  audience: AnnouncementAudience;
  departments: string[];
  graduationYears: number[];
  semesters: number[];
  jobLabel: string | null;
  stage: AudienceStage | null;
}): string {
  if (audience.audience === "applicants") {
    const job = audience.jobLabel ?? "a job";
    return audience.stage === null
      ? `Applicants to ${job} (not withdrawn)`
      : `${STAGE_WORDS[audience.stage]} for ${job}`;
  }
  if (audience.audience === "students") {
    const parts: string[] = [];
    if (audience.departments.length > 0) parts.push(`of ${list(audience.departments)}`);
    if (audience.graduationYears.length > 0)
      parts.push(`graduating ${list(audience.graduationYears)}`);
    if (audience.semesters.length > 0)
      parts.push(
        `in semester${audience.semesters.length > 1 ? "s" : ""} ${list(audience.semesters)}`,
      );
    return `Students ${parts.join(", ")}`;
  }
  return "Every approved student";
}

export function describeChoice(choice: AudienceChoice, jobLabel: string | null): string {
  return describeAudience({
    audience: choice.audience,
    departments: choice.audience === "students" ? choice.departments : [],
    graduationYears: choice.audience === "students" ? choice.graduationYears : [],
    semesters: choice.audience === "students" ? choice.semesters : [],
    jobLabel,
    stage: choice.audience === "applicants" ? choice.stage : null,
  });
}
