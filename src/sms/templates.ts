import {
  CUT_MARK,
  countSegments,
  fitVariablesToSegments,
  MessageTooLongError,
  normaliseForSms,
  type SegmentCount,
} from "./encoding.ts";

/**
 * What every SMS text is made of. Each text is a fixed template with named variables ("Dear {name},
 * ..."), as India's DLT rules require (each must be registered with the operators before it can be
 * delivered to Indian numbers). The features declare their own templates beside their code
 * (students/notices.ts, jobs/notices.ts, applications/notices.ts, announcements/notices.ts,
 * accounts/notices.ts); the SMS library's own is the test message. The office may edit each text:
 * the versions live in `sms_templates` (template-store.ts), version 1 being the default text here.
 *
 * Each template renders within its own segment budget (`maxSegments`) in the encoding the text
 * will really be sent in: free text (names, a reason, a company, a title, an announcement) is cut
 * with "..." just enough to fit (fitVariablesToSegments in encoding.ts), and look-alikes such as
 * curly quotes, long dashes and ₹ are replaced with GSM-7 characters (normaliseForSms), so the
 * queued body is the body that is sent. An edited text is refused when it could not keep that
 * promise (checkTemplateText).
 */

export interface TemplateVariable {
  /** What it stands for, in words: "the student's first name". */
  about: string;
  /** A typical value, for the preview. */
  sample: string;
  /** Free text the renderer may cut with "..." to keep the budget. */
  cut?: boolean;
  /**
   * The longest value a variable that is never cut takes (a 20-character roll number, the longest
   * status): an edited text must fit with it. The sample when not given.
   */
  longest?: string;
}

export interface SmsTemplateDefinition<V extends string> {
  /** The name the template is stored and registered under ("approval"). */
  id: string;
  /** In words, for the templates page: "Registration approved". */
  title: string;
  variables: Record<V, TemplateVariable>;
  /** Version 1: the text used until the office saves another. */
  defaultText: string;
  /** The most segments a rendered text may take, whatever its variables. */
  maxSegments: number;
  /** Added at the end when free text had to be cut (the announcement: "Read it all ..."). */
  whenCut?: string;
}

export interface SmsTemplate<V extends string = string> extends SmsTemplateDefinition<V> {
  /** The text with these values (free text cut to fit), from `text` or the default text. */
  render(vars: Record<V, string>, text?: string): string;
}

/** Which template and version a queued message was built from (sms_messages.template_*). */
export interface TemplateRef {
  id: string;
  version: number;
}

export interface RenderedSms {
  body: string;
  template: TemplateRef;
}

export type TemplatePart = { literal: string } | { variable: string };

export type ParsedText = { ok: true; parts: TemplatePart[] } | { ok: false; error: string };

const VARIABLE_NAME = /^[a-z][a-z_]*$/;

function variableList(names: readonly string[]): string {
  return names.map((n) => `{${n}}`).join(", ");
}

/**
 * Splits a text into fixed parts and `{variables}`. Braces only ever mark a variable: a "{" without
 * its "}" (or a "}" alone) is refused, and so is a name the template does not have.
 */
export function parseTemplateText(text: string, variables: readonly string[]): ParsedText {
  const parts: TemplatePart[] = [];
  let rest = text;
  while (rest.length > 0) {
    const open = rest.indexOf("{");
    const close = rest.indexOf("}");
    if (close !== -1 && (open === -1 || close < open))
      return {
        ok: false,
        error: `A "}" has no "{" before it: write each variable as {name}, with both braces.`,
      };
    if (open === -1) {
      parts.push({ literal: rest });
      break;
    }
    if (open > 0) parts.push({ literal: rest.slice(0, open) });
    const end = rest.indexOf("}", open);
    const nextOpen = rest.indexOf("{", open + 1);
    if (end === -1 || (nextOpen !== -1 && nextOpen < end))
      return {
        ok: false,
        error: `A "{" has no "}" after it: write each variable as {name}, with both braces.`,
      };
    const name = rest.slice(open + 1, end);
    if (!VARIABLE_NAME.test(name) || !variables.includes(name))
      return {
        ok: false,
        error: `{${name}} is not a variable of this template; it can use ${variableList(variables)}.`,
      };
    parts.push({ variable: name });
    rest = rest.slice(end + 1);
  }
  return { ok: true, parts };
}

function fill(parts: TemplatePart[], values: Record<string, string>): string {
  return parts.map((p) => ("literal" in p ? p.literal : (values[p.variable] ?? ""))).join("");
}

function parseOrThrow(text: string, variables: readonly string[]): TemplatePart[] {
  const parsed = parseTemplateText(text, variables);
  if (!parsed.ok) throw new Error(`SMS template text is not valid: ${parsed.error}`);
  return parsed.parts;
}

function renderWith<V extends string>(
  def: SmsTemplateDefinition<V>,
  parts: TemplatePart[],
  vars: Record<V, string>,
): string {
  const names = Object.keys(def.variables) as V[];
  const fixed: Record<string, string> = {};
  const free: Record<string, string> = {};
  for (const name of names) {
    const value = vars[name] ?? "";
    if (def.variables[name].cut) free[name] = value;
    else fixed[name] = normaliseForSms(value).replace(/\s+/g, " ").trim();
  }
  return fitVariablesToSegments(
    (v, cut) => `${fill(parts, { ...fixed, ...v })}${cut && def.whenCut ? def.whenCut : ""}`,
    free,
    def.maxSegments,
  );
}

/** A template the renderer, the store and the templates page understand. */
export function defineTemplate<V extends string>(def: SmsTemplateDefinition<V>): SmsTemplate<V> {
  const names = Object.keys(def.variables);
  const defaultParts = parseOrThrow(def.defaultText, names);
  return {
    ...def,
    render: (vars, text) =>
      renderWith(def, text === undefined ? defaultParts : parseOrThrow(text, names), vars),
  };
}

export function sampleValues<V extends string>(def: SmsTemplateDefinition<V>): Record<V, string> {
  return Object.fromEntries(
    Object.entries<TemplateVariable>(def.variables).map(([name, v]) => [name, v.sample]),
  ) as Record<V, string>;
}

export interface TemplateCheck {
  ok: boolean;
  /** Why the text is refused, in words (when not ok). */
  error?: string;
}

/**
 * Whether an edited text can be used: it parses (known variables, balanced braces) and, with every
 * free-text variable cut to "..." and every other at its longest, fits `maxSegments`, so no value
 * can make a message longer than its budget.
 */
export function checkTemplateText<V extends string>(
  def: SmsTemplateDefinition<V>,
  text: string,
): TemplateCheck {
  const names = Object.keys(def.variables);
  const parsed = parseTemplateText(text, names);
  if (!parsed.ok) return { ok: false, error: parsed.error };
  const worst: Record<string, string> = {};
  for (const [name, v] of Object.entries<TemplateVariable>(def.variables))
    worst[name] = v.cut ? CUT_MARK : normaliseForSms(v.longest ?? v.sample);
  const tightest = normaliseForSms(
    `${fill(parsed.parts, worst)}${def.whenCut && names.some((n) => worst[n] === CUT_MARK) ? def.whenCut : ""}`,
  );
  let count: SegmentCount;
  try {
    count = countSegments(tightest);
  } catch (error) {
    if (!(error instanceof MessageTooLongError)) throw error;
    return { ok: false, error: "Too long: an SMS can carry at most 1,600 characters." };
  }
  if (count.segments > def.maxSegments) {
    const cut = names.filter((n) => def.variables[n as V].cut);
    return {
      ok: false,
      error: `Too long: this text takes ${count.segments} segments in ${count.encoding}${
        cut.length > 0 ? ` even with ${variableList(cut)} cut to "${CUT_MARK}"` : ""
      }, and this template may take at most ${def.maxSegments}.`,
    };
  }
  return { ok: true };
}

export function firstName(fullName: string): string {
  return fullName.trim().split(/\s+/)[0] ?? fullName;
}

export const testSms = defineTemplate({
  id: "test",
  title: "Test message",
  variables: {
    time: {
      about: "when it was sent (ISO 8601)",
      sample: "2026-12-02T10:00:00.000Z",
      longest: "+275760-09-13T00:00:00.000Z",
    },
  },
  defaultText: "Test message from Placement Portal. Time: {time}",
  maxSegments: 1,
});
