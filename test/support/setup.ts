import { format } from "node:util";
import { afterEach, beforeEach, expect } from "vitest";

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
