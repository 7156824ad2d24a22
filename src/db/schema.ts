import type { ColumnType, Generated, Insertable, Selectable } from "kysely";

/**
 * Table types. Timestamps are ISO-8601 UTC strings on both databases (text on SQLite, timestamptz
 * on PostgreSQL, read back as ISO strings by the pg type parser in database.ts). Flags are nullable
 * timestamps (`approved_at`, `sms_opted_out_at`) rather than booleans: they say when, and SQLite
 * has no boolean type.
 */
export type Timestamp = string;

export type Role = "student" | "admin";

export interface UsersTable {
  id: Generated<number>;
  email: string;
  password_hash: string;
  role: Role;
  deactivated_at: Timestamp | null;
  created_at: Timestamp;
  last_login_at: Timestamp | null;
  /** Raised when the password changes: sessions that carry an older number have ended. */
  session_version: ColumnType<number, number | undefined, number>;
}

export interface StudentsTable {
  id: Generated<number>;
  user_id: number;
  full_name: string;
  roll_number: string;
  phone_e164: string;
  department: string;
  semester: number | null;
  graduation_year: number;
  cgpa: number;
  active_backlogs: number;
  skills: string;
  /**
   * Set only on rows from before decision 016: the file under DATA_DIR/uploads holding the
   * resume. resume-import.ts reads it into `resumes` and clears it; the app never writes it.
   */
  resume_path: ColumnType<string | null, string | null | undefined, string | null>;
  /** That file's size, cleared with it; a resume's size is `resumes.size`. */
  resume_bytes: ColumnType<number | null, number | null | undefined, number | null>;
  approved_at: Timestamp | null;
  approved_by: number | null;
  sms_opted_out_at: Timestamp | null;
  /** When the mobile number last changed (confirmed by the student, or set by an admin). */
  phone_changed_at: ColumnType<Timestamp | null, Timestamp | null | undefined, Timestamp | null>;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** This student's applications (any status) and those at `selected`; kept by triggers. */
  applications_count: ColumnType<number, never, never>;
  selected_count: ColumnType<number, never, never>;
  /** Part of the calendar feed's secret address (rounds/calendar.ts): raising it ends the old one. */
  calendar_feed_version: ColumnType<number, number | undefined, number>;
  /**
   * What the placement policy reads of this student's offers (placement/policy.ts), rewritten by
   * every offer write in its transaction (offers/service.ts): how many they hold accepted, the
   * best of those in lakh a year, how many of those are pre-placement offers, and when they first
   * declined an offer they had accepted.
   */
  accepted_offers: ColumnType<number, number | undefined, number>;
  best_offer_lpa: ColumnType<number | null, number | null | undefined, number | null>;
  accepted_ppos: ColumnType<number, number | undefined, number>;
  reneged_at: ColumnType<Timestamp | null, Timestamp | null | undefined, Timestamp | null>;
  /** The student takes no part in placement (higher studies, own venture): set by the office. */
  placement_opted_out_at: ColumnType<
    Timestamp | null,
    Timestamp | null | undefined,
    Timestamp | null
  >;
}

export const OFFER_SOURCES = ["campus", "ppo", "off_campus"] as const;
export type OfferSource = (typeof OFFER_SOURCES)[number];
export const OFFER_STATUSES = [
  "pending",
  "accepted",
  "declined",
  "lapsed",
  "withdrawn",
  "released",
] as const;
export type OfferStatus = (typeof OFFER_STATUSES)[number];

/** An offer a student holds (migration 2026-12-09a): from a campus selection, a PPO or off campus. */
export interface OffersTable {
  id: Generated<number>;
  student_id: number;
  source: OfferSource;
  job_id: number | null;
  application_id: number | null;
  company: string;
  role: string;
  location: string;
  fixed_lpa: number;
  variable_lpa: number;
  /** fixed + variable, in lakh a year. */
  ctc_lpa: number;
  /** YYYY-MM-DD, India. */
  joining_date: string | null;
  answer_by: Timestamp;
  status: OfferStatus;
  accepted_at: Timestamp | null;
  answered_at: Timestamp | null;
  withdrawn_reason: string | null;
  created_by: number | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface OfferLettersTable {
  offer_id: number;
  size: number;
  sha256: string;
  uploaded_at: Timestamp;
  content: Buffer;
}

/** The college's placement policy for one graduation year (placement/policy.ts). */
export interface PlacementPoliciesTable {
  graduation_year: number;
  max_accepted: number;
  /** JSON: [{ "name": "Regular", "fromLpa": 0 }, ...], lowest first. */
  tiers: string;
  placed_may_apply: "none" | "higher_tier" | "multiple";
  package_multiple: number | null;
  block_on_decline: number;
  ppo_in_campus: number;
  updated_by: number | null;
  updated_at: Timestamp;
}

/** A student's resume (a PDF), read by every web process alike; goes with the student. */
export interface ResumesTable {
  student_id: number;
  content: Buffer;
  size: number;
  /** Hex sha256 of `content`. */
  sha256: string;
  uploaded_at: Timestamp;
}

export interface AuditLogTable {
  id: Generated<number>;
  actor_user_id: number | null;
  actor_email: string;
  action: string;
  subject: string;
  /** JSON text. */
  details: string;
  at: Timestamp;
}

export const SMS_KINDS = [
  "approval",
  "rejection",
  "status_update",
  /** A decision (Selected, Rejected) moved back to the stage before it. */
  "application_corrected",
  "job_posted",
  "test",
  "custom",
  "password_reset",
  /** The code that confirms a new mobile number, sent to that number. */
  "phone_code",
  /** A number changed: told to the old number (and to the new one when an admin set it). */
  "phone_change",
  /** Someone registered with the email of an existing account: told to its owner. */
  "registration_attempt",
  /** A student was put in a round's slot: what, when, where. */
  "round_scheduled",
  /** Before a slot: the evening before, and in the morning for an early one. */
  "round_reminder",
  /** A round the student is in moved or was cancelled. */
  "round_changed",
  /** An apply-by time is near and the eligible student has not applied. */
  "deadline_nudge",
  /** An offer made, its answer-by reminder, or its withdrawal. */
  "offer",
] as const;
export type SmsKind = (typeof SMS_KINDS)[number];

export const SMS_STATUSES = [
  "queued",
  "sending",
  "sent",
  "delivered",
  "undelivered",
  "failed",
  "skipped",
  /** Recorded by the capture transport: kept on this server, never sent to a phone. */
  "captured",
  /** Still queued when what it was about went away (a job closed or deleted, an announcement deleted). */
  "cancelled",
  /**
   * Its last attempt may have reached Twilio and no look-up could tell before it gave up
   * (SMS_GIVE_UP_HOURS): final, shown as "Outcome unknown: may have been sent".
   */
  "unknown",
] as const;
export type SmsStatus = (typeof SMS_STATUSES)[number];

/**
 * Messages per (India hour of creation, kind, status), kept by triggers on sms_messages
 * (migration 2026-12-03h): the SMS console's charts and counts.
 */
export interface SmsHourlyCountsTable {
  /** India time, "2026-12-02T14". */
  hour: string;
  kind: SmsKind;
  status: SmsStatus;
  n: number;
}

/**
 * Changes to `sms_hourly_counts` not folded into it yet (migration 2026-12-07b): appended by the
 * triggers on `sms_messages`, folded and deleted by the dispatchers' maintenance. The live count
 * of a key is its `sms_hourly_counts.n` plus the sum of its deltas.
 */
export interface SmsCountDeltasTable {
  id: Generated<number>;
  /** India time, "2026-12-02T14". */
  hour: string;
  kind: SmsKind;
  status: SmsStatus;
  /** Signed: a message entering the key adds 1, one leaving it takes 1. */
  n: number;
}

export interface SmsMessagesTable {
  id: Generated<number>;
  kind: SmsKind;
  /** Lower is sooner: transactional messages (0) go before bulk alerts (10). */
  priority: number;
  dedupe_key: string;
  student_id: number | null;
  to_e164: string;
  body: string;
  encoding: "GSM-7" | "UCS-2";
  segments: number;
  status: SmsStatus;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: Timestamp;
  lease_owner: string | null;
  lease_until: Timestamp | null;
  unconfirmed_attempt_at: Timestamp | null;
  twilio_sid: string | null;
  /** Twilio's own word for the status (queued, accepted, sent, delivered, ...). */
  provider_status: string | null;
  error_code: number | null;
  error_message: string | null;
  created_at: Timestamp;
  sent_at: Timestamp | null;
  delivered_at: Timestamp | null;
  updated_at: Timestamp;
  /** What the message is about ("job:12", "announcement:3"): cancel or rewrite by it. */
  reference: ColumnType<string | null, string | null | undefined, string | null>;
  /** A resent message: the id of the failed or undelivered one it repeats. */
  resend_of: ColumnType<number | null, number | null | undefined, number | null>;
  /** The template and version the text was built from (null: queued before templates were kept). */
  template_id: ColumnType<string | null, string | null | undefined, string | null>;
  template_version: ColumnType<number | null, number | null | undefined, number | null>;
  /**
   * The last send attempt's start and outcome, set by the dispatcher's outcome write; a trigger
   * copies each such write into `sms_attempts` (read attempts there, not here).
   */
  attempt_started_at: ColumnType<Timestamp | null, Timestamp | null | undefined, Timestamp | null>;
  attempt_outcome: ColumnType<
    SmsAttemptOutcome | null,
    SmsAttemptOutcome | null | undefined,
    SmsAttemptOutcome | null
  >;
  /** The recipient's name and roll number when the message was queued: kept after the student goes. */
  student_name: ColumnType<string | null, string | null | undefined, string | null>;
  student_roll_number: ColumnType<string | null, string | null | undefined, string | null>;
  /**
   * The body with its one-time secret (a reset code) masked: all an admin is ever shown of the
   * text (`sms/secrets.ts displayedBody`), and the body itself once the secret has expired.
   */
  masked_body: ColumnType<string | null, string | null | undefined, string | null>;
  /**
   * Until then the body carries a secret worth something; null when it carries none, or no longer
   * does (the dispatcher replaced it by `masked_body`, and cancelled it if still queued).
   */
  secret_until: ColumnType<Timestamp | null, Timestamp | null | undefined, Timestamp | null>;
  /**
   * When its text and number were removed, SMS_RETENTION_DAYS after its creation (sms/retention.ts):
   * `body` then says so and `to_e164` is masked; it is never resent.
   */
  redacted_at: ColumnType<Timestamp | null, Timestamp | null | undefined, Timestamp | null>;
  /**
   * A cancel (job closed or deleted, announcement deleted, the console) met this message while
   * its last attempt may have reached Twilio: it is cancelled, with `cancel_reason`, only once
   * reconciliation finds that it was not sent (decision 027).
   */
  cancel_requested_at: ColumnType<Timestamp | null, Timestamp | null | undefined, Timestamp | null>;
  cancel_reason: ColumnType<string | null, string | null | undefined, string | null>;
  /**
   * When it was first due, where that is not its creation (due later, or held by quiet hours):
   * SMS_GIVE_UP_HOURS counts from it. Null: from `created_at`.
   */
  due_at: ColumnType<Timestamp | null, Timestamp | null | undefined, Timestamp | null>;
  /** Never sent after this moment (a reminder whose slot has started): skipped, with the reason. */
  not_after: ColumnType<Timestamp | null, Timestamp | null | undefined, Timestamp | null>;
  /** 1: SMS_QUIET_HOURS hold it (reminders, alerts); 0: it goes at once (codes, decisions). */
  quiet: ColumnType<number, number | undefined, number>;
}

/** The office's versions of an SMS template (version 1, the default text, has no row). */
export interface SmsTemplatesTable {
  template_id: string;
  version: number;
  text: string;
  /** The id DLT gave the registered template (19 digits), if registered. */
  dlt_template_id: string | null;
  created_at: Timestamp;
  /** The admin's email. */
  created_by: string;
}

/** One row (id 1): the sender's DLT registration. */
export interface SmsDltSettingsTable {
  id: number;
  /** The principal entity id (19 digits). */
  entity_id: string | null;
  /** The sender id / header (6 characters). */
  header: string | null;
  updated_at: Timestamp | null;
  updated_by: string | null;
}

export const SMS_ATTEMPT_OUTCOMES = [
  "sent",
  "captured",
  "retry",
  "failed",
  "opted_out",
  "credentials",
  /** An earlier attempt's answer was lost; Twilio's list showed the message did go out. */
  "reconciled",
] as const;
export type SmsAttemptOutcome = (typeof SMS_ATTEMPT_OUTCOMES)[number];

/** One try at sending an outbox message, written with the outcome it led to. */
export interface SmsAttemptsTable {
  id: Generated<number>;
  message_id: number;
  /** The message's attempt count when this try was made (1 for the first). */
  attempt: number;
  started_at: Timestamp;
  finished_at: Timestamp;
  outcome: SmsAttemptOutcome;
  twilio_sid: string | null;
  error_code: number | null;
  error_message: string | null;
}

export interface SmsDispatchStateTable {
  id: number;
  paused_until: Timestamp | null;
  credentials_error: string | null;
  credentials_error_at: Timestamp | null;
  /** Outage-like failures (5xx, no answer) in a row, across every dispatcher. */
  consecutive_failures: ColumnType<number, number | undefined, number>;
  /** The circuit is open (nothing is sent) until then; afterwards one probe at a time. */
  circuit_open_until: Timestamp | null;
  circuit_opened_at: Timestamp | null;
  /** The dispatcher allowed to send the one probe while the circuit is half open. */
  probe_owner: string | null;
  probe_until: Timestamp | null;
  /** An admin paused all sending (since then, by whom, why); null while sending is allowed. */
  admin_paused_at: ColumnType<Timestamp | null, Timestamp | null | undefined, Timestamp | null>;
  admin_paused_by_email: ColumnType<string | null, string | null | undefined, string | null>;
  admin_pause_reason: ColumnType<string | null, string | null | undefined, string | null>;
  updated_at: Timestamp;
}

/**
 * One running SMS dispatcher (migration 2026-12-07d): written every few seconds by the
 * dispatcher itself, deleted when it stops gracefully, pruned by the maintenance when long unseen.
 */
export interface SmsDispatchersTable {
  /** The dispatcher's worker id ("host:pid:random"), as on the leases it takes. */
  worker_id: string;
  host: string;
  pid: number;
  started_at: Timestamp;
  /** Last heartbeat, by the database's clock. */
  seen_at: Timestamp;
  /** The last claim that took rows, by the database's clock. */
  last_claim_at: Timestamp | null;
}

/**
 * One row (id 1): the portal's one sending pace, booked by every dispatcher (sms/send-budget.ts,
 * decision 025). Instants are the database clock's epoch milliseconds.
 */
export interface SmsSendBudgetTable {
  id: number;
  /** From this instant on, sending time is not yet booked by any dispatcher. */
  next_free_ms: number;
  /** All the sending time ever booked (ms): a dispatcher's share of the portal's sending. */
  booked_ms: number;
  /** After a 429: the pace Twilio was found to accept, kept under until `ceiling_until_ms`. */
  ceiling_per_second: number | null;
  ceiling_until_ms: number | null;
}

export interface SmsEarlyCallbacksTable {
  id: Generated<number>;
  twilio_sid: string;
  status: string;
  error_code: number | null;
  received_at: Timestamp;
}

export const JOB_TYPES = ["placement", "internship", "drive"] as const;
export type JobType = (typeof JOB_TYPES)[number];

export interface JobsTable {
  id: Generated<number>;
  company: string;
  title: string;
  type: JobType;
  description: string;
  location: string;
  package_range: string;
  official_link: string | null;
  min_cgpa: number | null;
  max_backlogs: number | null;
  apply_by: Timestamp;
  status: "open" | "closed";
  /** How many "new opportunity" SMS were queued when it was posted. */
  alert_sms_count: ColumnType<number, number | undefined, number>;
  /** The posting form's one-time id: a second submit of the same form finds this job. */
  submission_id: string | null;
  posted_by: number | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** Hours before `apply_by` at which the eligible students who have not applied are nudged. */
  nudge_hours: ColumnType<number | null, number | null | undefined, number | null>;
  /** The top of `package_range` in lakh a year (jobs/package.ts), null when it has no figure. */
  package_lpa: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface JobDepartmentsTable {
  job_id: number;
  department: string;
}
export interface JobGraduationYearsTable {
  job_id: number;
  graduation_year: number;
}
export interface JobSemestersTable {
  job_id: number;
  semester: number;
}

export const APPLICATION_STATUSES = [
  "applied",
  "shortlisted",
  "interview",
  "selected",
  "rejected",
  "withdrawn",
] as const;
export type ApplicationStatus = (typeof APPLICATION_STATUSES)[number];

export interface ApplicationsTable {
  id: Generated<number>;
  job_id: number;
  student_id: number;
  status: ApplicationStatus;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface ApplicationEventsTable {
  id: Generated<number>;
  application_id: number;
  from_status: ApplicationStatus | null;
  to_status: ApplicationStatus;
  by_user_id: number | null;
  by_role: Role;
  at: Timestamp;
}

export interface AnnouncementsTable {
  id: Generated<number>;
  title: string;
  message: string;
  sms_count: ColumnType<number, number | undefined, number>;
  submission_id: string | null;
  posted_by: number | null;
  posted_at: Timestamp;
  /** Who it is for; `students` and `applicants` list their people in announcement_recipients. */
  audience: ColumnType<
    AnnouncementAudience,
    AnnouncementAudience | undefined,
    AnnouncementAudience
  >;
  audience_job_id: number | null;
  /** The job as it read when posted ("Infosys – SDE"): the audience still reads after a deletion. */
  audience_job_label: string | null;
  /** Only the applicants at this stage; null: every applicant who has not withdrawn. */
  audience_stage: ApplicationStatus | null;
}

export const ANNOUNCEMENT_AUDIENCES = ["everyone", "students", "applicants"] as const;
export type AnnouncementAudience = (typeof ANNOUNCEMENT_AUDIENCES)[number];

export interface AnnouncementDepartmentsTable {
  announcement_id: number;
  department: string;
}

export interface AnnouncementGraduationYearsTable {
  announcement_id: number;
  graduation_year: number;
}

export interface AnnouncementSemestersTable {
  announcement_id: number;
  semester: number;
}

/** The students an aimed announcement was for when it was posted. */
export interface AnnouncementRecipientsTable {
  announcement_id: number;
  student_id: number;
}

export const LIMIT_EVENT_KINDS = [
  "login_failure",
  "registration",
  "reset_request",
  "reset_code_failure",
  "phone_code_request",
  /** An SMS told an account's owner that someone registered with its email (students/). */
  "registration_notice",
] as const;
export type LimitEventKind = (typeof LIMIT_EVENT_KINDS)[number];

/** One event a limit counts (a failed login, a registration, ...), by account and by address. */
export interface LimitEventsTable {
  id: Generated<number>;
  kind: LimitEventKind;
  account: string | null;
  address: string | null;
  at: Timestamp;
}

/**
 * The office's value of a limit (web/limits.ts `LimitSetting`), by the limit's name; a limit
 * without a row uses its default from the code.
 */
export interface LimitSettingsTable {
  name: string;
  max: number;
  window_seconds: number;
  updated_at: Timestamp;
  /** The admin's email. */
  updated_by: string;
}

export interface PasswordResetCodesTable {
  id: Generated<number>;
  user_id: number;
  code_hash: string;
  salt: string;
  attempts: ColumnType<number, number | undefined, number>;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}

/**
 * A change of number a student asked for from the profile, pending until the code sent to the new
 * number is entered; only the newest of a student works.
 */
export interface PhoneChangesTable {
  id: Generated<number>;
  student_id: number;
  new_e164: string;
  code_hash: string;
  salt: string;
  attempts: ColumnType<number, number | undefined, number>;
  created_at: Timestamp;
  expires_at: Timestamp;
  used_at: Timestamp | null;
}

/** Version numbers that triggers bump on every change to what they name (see open-jobs.ts). */
export interface DataVersionsTable {
  name: "jobs";
  /** bigint: PostgreSQL returns it as a string. */
  version: ColumnType<number | string, number, number>;
}

/**
 * The admin dashboard's counts per (department, graduation_year, semester; 0 = not set), kept by
 * triggers in the same transaction as every change to students and applications (decision 019).
 */
export interface PlacementSummaryTable {
  department: string;
  graduation_year: number;
  semester: number;
  students: number;
  approved: number;
  /** Applications of these students, any status. */
  applications: number;
  /** Students with at least one selected application. */
  selected: number;
  /** Approved students with at least one application, and with at least one selection. */
  approved_applied: number;
  approved_selected: number;
}

/**
 * One student's applications to one company's jobs (rows with at least one), with a copy of the
 * student's group and approval; kept by triggers (decision 019, "Company filter").
 */
export interface CompanyStudentCountsTable {
  student_id: number;
  company: string;
  department: string;
  graduation_year: number;
  /** 0 = not set. */
  semester: number;
  /** 1 if the student is approved. */
  approved: number;
  applications: number;
  selected: number;
}

/**
 * The company filter's counts per (company, department, graduation_year, semester; 0 = not set),
 * summed from `company_student_counts` by triggers (decision 019, "Company filter").
 */
export interface CompanyPlacementSummaryTable {
  company: string;
  department: string;
  graduation_year: number;
  semester: number;
  /** These students' applications to the company's jobs, any status. */
  applications: number;
  /** Students with at least one selected application to the company. */
  selected: number;
  /** Approved students with at least one application to the company, and with a selection. */
  approved_applied: number;
  approved_selected: number;
}

/**
 * SQLite only: the admin student search's FTS5 trigram index (migration 2026-12-03f), one row per
 * student, `rowid` = students.id, kept by triggers. Contentless: its columns read back as null;
 * only `rowid` and `students_search match ...` are of use.
 */
export interface StudentsSearchTable {
  rowid: number;
  full_name: string | null;
  roll_number: string | null;
  email: string | null;
}

/**
 * A registration the office rejected, kept for a while so that its person is told at login
 * (accounts/rejected-registrations.ts): the email only as its SHA-256.
 */
export interface RejectedRegistrationsTable {
  email_sha256: string;
  password_hash: string;
  reason: string | null;
  rejected_at: Timestamp;
}

export const ROUND_KINDS = ["test", "group_discussion", "interview", "hr", "other"] as const;
export type RoundKind = (typeof ROUND_KINDS)[number];

/** One step of a job's selection (migration 2026-12-08b). */
export interface RoundsTable {
  id: Generated<number>;
  job_id: number;
  /** 1, 2, ...: the order of the job's rounds. */
  position: number;
  name: string;
  kind: RoundKind;
  duration_minutes: number;
  venue: string;
  meeting_link: string | null;
  instructions: string;
  cancelled_at: Timestamp | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** When a round takes place: one batch, with an optional capacity. */
export interface RoundSlotsTable {
  id: Generated<number>;
  round_id: number;
  starts_at: Timestamp;
  capacity: number | null;
  /** The calendar event's SEQUENCE: raised by every change a calendar must see. */
  sequence: ColumnType<number, number | undefined, number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** A student's place in one slot of a round (one per round), and how the round went for them. */
export interface RoundMembersTable {
  round_id: number;
  slot_id: number;
  student_id: number;
  application_id: number;
  attendance: "present" | "absent" | null;
  result: "passed" | "not_passed" | null;
  added_at: Timestamp;
}

export interface DB {
  rounds: RoundsTable;
  round_slots: RoundSlotsTable;
  round_members: RoundMembersTable;
  users: UsersTable;
  students: StudentsTable;
  resumes: ResumesTable;
  audit_log: AuditLogTable;
  sms_messages: SmsMessagesTable;
  sms_hourly_counts: SmsHourlyCountsTable;
  sms_count_deltas: SmsCountDeltasTable;
  sms_templates: SmsTemplatesTable;
  sms_dlt_settings: SmsDltSettingsTable;
  sms_attempts: SmsAttemptsTable;
  sms_dispatch_state: SmsDispatchStateTable;
  sms_dispatchers: SmsDispatchersTable;
  sms_send_budget: SmsSendBudgetTable;
  sms_early_callbacks: SmsEarlyCallbacksTable;
  jobs: JobsTable;
  offers: OffersTable;
  offer_letters: OfferLettersTable;
  placement_policies: PlacementPoliciesTable;
  job_departments: JobDepartmentsTable;
  job_graduation_years: JobGraduationYearsTable;
  job_semesters: JobSemestersTable;
  applications: ApplicationsTable;
  application_events: ApplicationEventsTable;
  announcements: AnnouncementsTable;
  announcement_departments: AnnouncementDepartmentsTable;
  announcement_graduation_years: AnnouncementGraduationYearsTable;
  announcement_semesters: AnnouncementSemestersTable;
  announcement_recipients: AnnouncementRecipientsTable;
  limit_events: LimitEventsTable;
  limit_settings: LimitSettingsTable;
  password_reset_codes: PasswordResetCodesTable;
  phone_changes: PhoneChangesTable;
  rejected_registrations: RejectedRegistrationsTable;
  data_versions: DataVersionsTable;
  placement_summary: PlacementSummaryTable;
  company_student_counts: CompanyStudentCountsTable;
  company_placement_summary: CompanyPlacementSummaryTable;
  students_search: StudentsSearchTable;
}

export type Job = Selectable<JobsTable>;
export type Application = Selectable<ApplicationsTable>;

export type User = Selectable<UsersTable>;
export type Student = Selectable<StudentsTable>;
export type Offer = Selectable<OffersTable>;
export type SmsMessage = Selectable<SmsMessagesTable>;
export type NewSmsMessage = Insertable<SmsMessagesTable>;
export type SmsAttempt = Selectable<SmsAttemptsTable>;
