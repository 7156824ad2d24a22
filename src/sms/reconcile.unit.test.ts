import { describe, expect, it } from "vitest";
import { candidatesFor, sameText, TRIAL_PREFIX } from "./reconcile.ts";

const ours = "Dear Asha, your status for Bosch - GET has been updated to 'Shortlisted'.";

describe("sameText: is the message in Twilio's list the one we sent?", () => {
  it.each([
    ["the same text", ours, true],
    ["with a trial account's prefix", `${TRIAL_PREFIX}${ours}`, true],
    [
      "with curly quotes (look-alikes on either side)",
      ours.replace("'Shortlisted'", "\u2018Shortlisted\u2019"),
      true,
    ],
    ["with \\r\\n line ends", `${ours}\r\n`, true],
    ["another status", ours.replace("Shortlisted", "Selected"), false],
    ["another student", ours.replace("Asha", "Ravi"), false],
    ["a prefix that is not Twilio's", `Sent from your account - ${ours}`, false],
  ])("%s: %s", (_what, theirs, expected) => {
    expect(sameText(ours, theirs)).toBe(expected);
  });

  it("matches what Smart Encoding makes of a text we sent with look-alikes", () => {
    const sent = "Bosch’s “GET” drive – apply by 1 Dec";
    expect(sameText(sent, `Bosch's "GET" drive - apply by 1 Dec`)).toBe(true);
  });
});

describe("candidatesFor: the list entries that may be ours, best first", () => {
  const entry = (sid: string, body: string | null, segments: number | null) => ({
    sid,
    body,
    segments,
  });

  it("takes the same text first, then entries without a body (redacted) of our segment count", () => {
    const found = candidatesFor({ body: ours, segments: 1 }, [
      entry("SMnull", null, 1),
      entry("SMother", ours.replace("Asha", "Ravi"), 1),
      entry("SMtext", ours, 1),
      entry("SMlonger", null, 2),
      entry("SMunsaid", null, null),
    ]);
    expect(found.map((m) => m.sid)).toEqual(["SMtext", "SMnull", "SMunsaid"]);
  });

  it("never throws on a null body", () => {
    expect(candidatesFor({ body: ours, segments: 2 }, [entry("SMnull", null, 1)])).toEqual([]);
  });
});
