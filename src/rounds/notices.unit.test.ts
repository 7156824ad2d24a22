import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { anyText, assertWithinBudget } from "#test/support/unicode.ts";
import { deadlineNudgeSms } from "../jobs/notices.ts";
import { countSegments } from "../sms/encoding.ts";
import { ROUND_TEMPLATES, slotVars } from "./notices.ts";
import { remindersFor } from "./reminders.ts";

const IST = (local: string) => new Date(`${local}+05:30`);
const DEFAULTS = {
  REMINDER_EVENING_AT: 18 * 60,
  REMINDER_EARLY_MINUTES: 120,
  REMINDER_EARLY_BEFORE: 11 * 60,
};

describe("round reminders", () => {
  it("go at 18:00 the evening before, and 2 hours before a slot that starts before 11:00", () => {
    const now = IST("2026-12-01T09:00");
    expect(remindersFor(IST("2026-12-10T10:00"), DEFAULTS, now)).toEqual([
      { name: "evening", dueAt: IST("2026-12-09T18:00") },
      { name: "early", dueAt: IST("2026-12-10T08:00") },
    ]);
    expect(remindersFor(IST("2026-12-10T14:30"), DEFAULTS, now)).toEqual([
      { name: "evening", dueAt: IST("2026-12-09T18:00") },
    ]);
    // A slot at 00:30 India time: the evening before is still before it.
    expect(remindersFor(IST("2026-12-10T00:30"), DEFAULTS, now).map((r) => r.name)).toEqual([
      "evening",
      "early",
    ]);
  });

  it("leave out the ones whose time has passed, and follow the office's settings", () => {
    const slot = IST("2026-12-10T10:00");
    expect(remindersFor(slot, DEFAULTS, IST("2026-12-09T19:00"))).toEqual([
      { name: "early", dueAt: IST("2026-12-10T08:00") },
    ]);
    expect(remindersFor(slot, DEFAULTS, IST("2026-12-10T08:30"))).toEqual([]);
    expect(
      remindersFor(
        slot,
        { REMINDER_EVENING_AT: null, REMINDER_EARLY_MINUTES: 0, REMINDER_EARLY_BEFORE: 660 },
        IST("2026-12-01T09:00"),
      ),
    ).toEqual([]);
    expect(
      remindersFor(
        slot,
        {
          REMINDER_EVENING_AT: 20 * 60,
          REMINDER_EARLY_MINUTES: 180,
          REMINDER_EARLY_BEFORE: 9 * 60,
        },
        IST("2026-12-01T09:00"),
      ),
    ).toEqual([{ name: "evening", dueAt: IST("2026-12-09T20:00") }]);
  });

  it("are due before their slot and after now, for any slot and any settings", () => {
    let reached = 0;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 60 * 24 * 30 }),
        fc.integer({ min: 0, max: 60 * 24 * 30 }),
        fc.option(fc.integer({ min: 0, max: 1439 }), { nil: null }),
        fc.integer({ min: 0, max: 720 }),
        fc.integer({ min: 0, max: 1439 }),
        (nowMinute, ahead, evening, minutes, before) => {
          const now = new Date(Date.UTC(2026, 11, 1) + nowMinute * 60_000);
          const slot = new Date(now.getTime() + ahead * 60_000);
          const settings = {
            REMINDER_EVENING_AT: evening,
            REMINDER_EARLY_MINUTES: minutes,
            REMINDER_EARLY_BEFORE: before,
          };
          const due = remindersFor(slot, settings, now);
          if (due.length > 0) reached += 1;
          for (const r of due) {
            expect(r.dueAt.getTime()).toBeGreaterThan(now.getTime());
            expect(r.dueAt.getTime()).toBeLessThan(slot.getTime());
          }
          expect(new Set(due.map((r) => r.name)).size).toBe(due.length);
        },
      ),
    );
    expect(reached).toBeGreaterThan(10);
  });
});

describe("round and nudge texts", () => {
  for (const template of ROUND_TEMPLATES)
    it(`${template.id} stays within ${template.maxSegments} segments for any unicode input`, () => {
      assertWithinBudget(
        fc
          .record({
            round: anyText(),
            company: anyText(),
            venue: anyText(),
            starts_at: fc.constantFrom("2026-12-10T04:30:00.000Z", "2027-01-31T13:59:00.000Z"),
            link: fc.option(fc.constant("https://meet.example.com/x"), { nil: null }),
          })
          .map((v) =>
            template.render(
              slotVars({
                id: 1,
                starts_at: v.starts_at,
                round_name: v.round,
                company: v.company,
                venue: v.venue,
                meeting_link: v.link,
              }),
            ),
          ),
        template.maxSegments,
      );
    });

  it("say when in India time and where, in one segment for a usual round", () => {
    const vars = slotVars({
      id: 1,
      starts_at: "2026-12-10T04:30:00.000Z",
      round_name: "Aptitude test",
      company: "Infosys",
      venue: "Seminar Hall 2",
      meeting_link: null,
    });
    const [scheduled] = ROUND_TEMPLATES;
    const body = scheduled.render(vars);
    expect(body).toBe(
      "You are in Aptitude test for Infosys on Thu, 10 Dec, 10:00 IST at Seminar Hall 2. Details on the Placement Portal.",
    );
    expect(countSegments(body)).toMatchObject({ encoding: "GSM-7", segments: 1 });
    expect(
      slotVars({
        ...vars,
        id: 1,
        starts_at: "2026-12-10T04:30:00.000Z",
        round_name: "x",
        company: "y",
        venue: "",
        meeting_link: "https://m.example",
      }).where,
    ).toBe("online (link on the portal)");
  });

  it(`the deadline nudge stays within ${deadlineNudgeSms.maxSegments} segments`, () => {
    assertWithinBudget(
      fc
        .record({ company: anyText(), title: anyText() })
        .map((v) => deadlineNudgeSms.render({ ...v, apply_by: "10 Dec 2026, 5:00 pm" })),
      deadlineNudgeSms.maxSegments,
    );
  });
});
