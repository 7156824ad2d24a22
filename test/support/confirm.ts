import type { LightMyRequestResponse } from "fastify";
import type { FormFields, TestClient } from "./client.ts";

/** Page text with the entities the renderer writes turned back into characters. */
export function pageText(body: string): string {
  return body
    .replace(/<[^>]+>/g, " ")
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&")
    .replace(/\s+/g, " ");
}

/** The confirmation page's form (see src/web/confirm.tsx): where it posts and its hidden fields. */
export function confirmForm(response: LightMyRequestResponse): {
  action: string;
  fields: FormFields;
} {
  const form =
    /<form method="post" action="([^"]+)" class="confirm-buttons" name="confirm">([\s\S]*?)<\/form>/.exec(
      response.body,
    );
  if (!form) throw new Error(`no confirmation form on this page (status ${response.statusCode})`);
  const fields: Record<string, string[]> = {};
  for (const input of form[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) {
    const [, name, value] = input;
    if (name === "_csrf") continue;
    const decoded = value!
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&amp;/g, "&");
    fields[name!] = [...(fields[name!] ?? []), decoded];
  }
  return { action: form[1]!.replace(/&amp;/g, "&"), fields };
}

/** Presses "Confirm" on a confirmation page, as the browser would. */
export async function confirm(client: TestClient, page: LightMyRequestResponse) {
  const { action, fields } = confirmForm(page);
  return client.post(action, fields);
}
