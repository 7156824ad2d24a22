import { format } from "node:util";
import { afterEach, beforeEach, expect } from "vitest";

// Tests send at any hour: no quiet hours unless a test sets them (SMS_QUIET_HOURS, decision 032).
// Processes the tests start inherit it; a newcomer's shell (`newcomerEnv`) does not.
process.env.SMS_QUIET_HOURS = "";

// A test fails on any console.error it did not expect (Epic Stack's rule): errors that are logged
// and swallowed are still bugs. A test that provokes one on purpose calls `expectConsoleError()`.
let errors: string[] = [];
let allowed = false;
const original = console.error;

export function expectConsoleError(): void {
  allowed = true;
}

beforeEach(() => {
  errors = [];
  allowed = false;
  console.error = (...args: unknown[]) => {
    errors.push(format(...args));
  };
});

afterEach(() => {
  console.error = original;
  if (!allowed) expect(errors, "unexpected console.error").toEqual([]);
});
