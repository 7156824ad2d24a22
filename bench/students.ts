import type { AppContext } from "#src/context.ts";
import { registerStudent } from "#src/students/registration.ts";

/**
 * `count` students registered the way the form registers them (argon2id included), pending
 * approval, each with a number of their own: the benches that time approvals start from these.
 */
export async function registerBenchStudents(ctx: AppContext, count: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const result = await registerStudent(
      ctx,
      {
        full_name: `Bench Student ${i}`,
        roll_number: `1BN22CS${String(i).padStart(4, "0")}`,
        email: `bench${i}@college.test`,
        password: "bench-password",
        password_confirm: "bench-password",
        phone: `+919845${String(100000 + i).padStart(6, "0")}`,
        department: "CSE",
        semester: 7,
        graduation_year: 2027,
        cgpa: 8,
        active_backlogs: 0,
        skills: "",
      },
      undefined,
    );
    if (!result.ok) throw new Error(`registration ${i} failed: ${JSON.stringify(result.errors)}`);
    ids.push(result.value.studentId);
  }
  return ids;
}
