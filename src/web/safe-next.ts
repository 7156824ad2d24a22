/**
 * Only a path on this site: anything a browser could read as another origin ("//evil",
 * "/\\evil", "/<tab>/evil", which browsers strip to "//evil") would make a redirect to `next` an
 * open redirect. "" when `next` is not such a path.
 */
export function safeNext(next: unknown): string {
  if (typeof next !== "string" || !next.startsWith("/") || next.includes("\\")) return "";
  // Browsers drop control characters (tab, newline) inside URLs: "/<tab>/evil" is "//evil".
  if ([...next].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f)) return "";
  try {
    const url = new URL(next, "http://portal.invalid");
    return url.origin === "http://portal.invalid" && !next.startsWith("//") ? next : "";
  } catch {
    return "";
  }
}
