import type { Kysely } from "kysely";
import type { DB } from "../db/schema.ts";
import type { RenderedSms, SmsTemplate, SmsTemplateDefinition } from "./templates.ts";

/**
 * The versions of each SMS template's text (`sms_templates`). The current version is the highest;
 * version 1 is the default text in the code and has no row (the first save writes version 2). A
 * message is rendered from the current version inside the transaction that queues it (one read by
 * the primary key) and records that version, so a later edit never changes it.
 */

export interface TemplateVersion {
  templateId: string;
  version: number;
  text: string;
  dltTemplateId: string | null;
  /** Null for version 1, the default text nobody saved. */
  createdAt: string | null;
  createdBy: string | null;
}

type Db = Kysely<DB>;

function defaultVersion(def: SmsTemplateDefinition<string>): TemplateVersion {
  return {
    templateId: def.id,
    version: 1,
    text: def.defaultText,
    dltTemplateId: null,
    createdAt: null,
    createdBy: null,
  };
}

type Row = {
  template_id: string;
  version: number;
  text: string;
  dlt_template_id: string | null;
  created_at: string;
  created_by: string;
};

function fromRow(row: Row): TemplateVersion {
  return {
    templateId: row.template_id,
    version: Number(row.version),
    text: row.text,
    dltTemplateId: row.dlt_template_id,
    createdAt: row.created_at,
    createdBy: row.created_by,
  };
}

const COLUMNS = [
  "template_id",
  "version",
  "text",
  "dlt_template_id",
  "created_at",
  "created_by",
] as const;

export async function currentTemplateVersion(
  db: Db,
  def: SmsTemplateDefinition<string>,
): Promise<TemplateVersion> {
  const row = await db
    .selectFrom("sms_templates")
    .select(COLUMNS)
    .where("template_id", "=", def.id)
    .orderBy("version", "desc")
    .limit(1)
    .executeTakeFirst();
  return row ? fromRow(row) : defaultVersion(def);
}

/** One version; version 1 (or null: a message queued before versions were kept) is the default. */
export async function templateVersion(
  db: Db,
  def: SmsTemplateDefinition<string>,
  version: number | null,
): Promise<TemplateVersion | null> {
  if (version === null || version === 1) return defaultVersion(def);
  const row = await db
    .selectFrom("sms_templates")
    .select(COLUMNS)
    .where("template_id", "=", def.id)
    .where("version", "=", version)
    .executeTakeFirst();
  return row ? fromRow(row) : null;
}

/** Every version, newest first (version 1, the default text, last). */
export async function templateHistory(
  db: Db,
  def: SmsTemplateDefinition<string>,
): Promise<TemplateVersion[]> {
  const rows = await db
    .selectFrom("sms_templates")
    .select(COLUMNS)
    .where("template_id", "=", def.id)
    .orderBy("version", "desc")
    .execute();
  return [...rows.map(fromRow), defaultVersion(def)];
}

/** The current version of each template, in one query. */
export async function currentTemplateVersions(
  db: Db,
  defs: readonly SmsTemplateDefinition<string>[],
): Promise<Map<string, TemplateVersion>> {
  const rows = await db
    .selectFrom("sms_templates as t")
    .innerJoin(
      (eb) =>
        eb
          .selectFrom("sms_templates")
          .select(["template_id", (e) => e.fn.max("version").as("latest")])
          .groupBy("template_id")
          .as("m"),
      (join) =>
        join.onRef("m.template_id", "=", "t.template_id").onRef("m.latest", "=", "t.version"),
    )
    .select([
      "t.template_id",
      "t.version",
      "t.text",
      "t.dlt_template_id",
      "t.created_at",
      "t.created_by",
    ])
    .execute();
  const byId = new Map(rows.map((r) => [r.template_id, fromRow(r)]));
  return new Map(defs.map((d) => [d.id, byId.get(d.id) ?? defaultVersion(d)]));
}

/** The text of the template's current version with these values, and which version it was. */
export async function renderCurrent<V extends string>(
  db: Db,
  template: SmsTemplate<V>,
  vars: Record<V, string>,
): Promise<RenderedSms> {
  const current = await currentTemplateVersion(db, template);
  return {
    body: template.render(vars, current.text),
    template: { id: template.id, version: current.version },
  };
}

/** `renderCurrent` for many messages of one template: the current version read once. */
export async function renderCurrentEach<V extends string>(
  db: Db,
  template: SmsTemplate<V>,
  varsEach: readonly Record<V, string>[],
): Promise<RenderedSms[]> {
  if (varsEach.length === 0) return [];
  const current = await currentTemplateVersion(db, template);
  return varsEach.map((vars) => ({
    body: template.render(vars, current.text),
    template: { id: template.id, version: current.version },
  }));
}

/**
 * The text of a given version (the one a queued message was built from) with new values: a
 * message rewritten after its job changed keeps the wording it was queued with. A version that
 * is not stored (it cannot be: versions are never deleted) falls back to the default text.
 */
export async function renderVersion<V extends string>(
  db: Db,
  template: SmsTemplate<V>,
  version: number | null,
  vars: Record<V, string>,
): Promise<string> {
  const stored = await templateVersion(db, template, version);
  return template.render(vars, stored?.text);
}

export type SaveOutcome =
  | { outcome: "saved"; version: number; previous: TemplateVersion }
  | { outcome: "unchanged"; current: TemplateVersion }
  | { outcome: "changed"; current: TemplateVersion };

/**
 * Saves a new version of `def`, edited from `baseVersion`, inside the caller's transaction.
 * The same text and DLT id as the current version: nothing is written. Another version saved
 * since the form was opened: nothing is written and the caller is told. Two saves at once both
 * try version N+1; the primary key (template_id, version) lets one insert it and the other does
 * nothing (ON CONFLICT DO NOTHING), and is told the template changed.
 */
export async function saveTemplateVersion(
  trx: Db,
  def: SmsTemplateDefinition<string>,
  edit: {
    baseVersion: number;
    text: string;
    dltTemplateId: string | null;
    by: string;
    at: string;
  },
): Promise<SaveOutcome> {
  const current = await currentTemplateVersion(trx, def);
  if (current.text === edit.text && current.dltTemplateId === edit.dltTemplateId)
    return { outcome: "unchanged", current };
  if (current.version !== edit.baseVersion) return { outcome: "changed", current };
  const inserted = await trx
    .insertInto("sms_templates")
    .values({
      template_id: def.id,
      version: current.version + 1,
      text: edit.text,
      dlt_template_id: edit.dltTemplateId,
      created_at: edit.at,
      created_by: edit.by,
    })
    .onConflict((oc) => oc.columns(["template_id", "version"]).doNothing())
    .returning("version")
    .executeTakeFirst();
  if (!inserted) return { outcome: "changed", current: await currentTemplateVersion(trx, def) };
  return { outcome: "saved", version: Number(inserted.version), previous: current };
}

export interface DltSettings {
  entityId: string | null;
  header: string | null;
  updatedAt: string | null;
  updatedBy: string | null;
}

export async function readDltSettings(db: Db): Promise<DltSettings> {
  const row = await db
    .selectFrom("sms_dlt_settings")
    .select(["entity_id", "header", "updated_at", "updated_by"])
    .where("id", "=", 1)
    .executeTakeFirst();
  return {
    entityId: row?.entity_id ?? null,
    header: row?.header ?? null,
    updatedAt: row?.updated_at ?? null,
    updatedBy: row?.updated_by ?? null,
  };
}

/** Sets the sender's DLT ids; returns the previous ones, or null when nothing changed. */
export async function saveDltSettings(
  trx: Db,
  edit: { entityId: string | null; header: string | null; by: string; at: string },
): Promise<DltSettings | null> {
  const previous = await readDltSettings(trx);
  if (previous.entityId === edit.entityId && previous.header === edit.header) return null;
  await trx
    .updateTable("sms_dlt_settings")
    .set({
      entity_id: edit.entityId,
      header: edit.header,
      updated_at: edit.at,
      updated_by: edit.by,
    })
    .where("id", "=", 1)
    .execute();
  return previous;
}
