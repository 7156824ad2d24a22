/** Departments (branches) offered for registration and used by job eligibility rules. */
export const DEPARTMENTS = [
  { code: "CSE", name: "Computer Science and Engineering" },
  { code: "ISE", name: "Information Science and Engineering" },
  { code: "AIML", name: "Artificial Intelligence and Machine Learning" },
  { code: "ECE", name: "Electronics and Communication Engineering" },
  { code: "EEE", name: "Electrical and Electronics Engineering" },
  { code: "ME", name: "Mechanical Engineering" },
  { code: "CV", name: "Civil Engineering" },
  { code: "CHE", name: "Chemical Engineering" },
  { code: "BT", name: "Biotechnology" },
  { code: "MCA", name: "Master of Computer Applications" },
] as const;

export const DEPARTMENT_CODES = DEPARTMENTS.map((d) => d.code) as [string, ...string[]];

export function departmentName(code: string): string {
  return DEPARTMENTS.find((d) => d.code === code)?.name ?? code;
}
