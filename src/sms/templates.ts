import { STATUS_LABELS } from "../applications/status.ts";
import type { ApplicationStatus } from "../db/schema.ts";

/**
 * The text of every SMS the portal sends. Fixed templates with variables, as India's DLT rules
 * require (each must be registered with the operators before it can be delivered to Indian
 * numbers); `id` is the name the registration is kept under.
 */

export interface SmsTemplate<Vars> {
  id: string;
  render(vars: Vars): string;
}

function firstName(fullName: string): string {
  return fullName.trim().split(/\s+/)[0] ?? fullName;
}

/** Cuts to `max` characters with "..." (three dots: "…" is not GSM-7 and would make it UCS-2). */
function clip(text: string, max: number): string {
  const clean = text.replace(/\s+/g, " ").trim();
  return clean.length <= max ? clean : `${clean.slice(0, max - 3).trimEnd()}...`;
}

export const approvalSms: SmsTemplate<{ fullName: string; rollNumber: string }> = {
  id: "approval",
  render: ({ fullName, rollNumber }) =>
    `Dear ${firstName(fullName)}, your Placement Portal account (${rollNumber}) has been approved. You can now log in and apply for jobs.`,
};

export const rejectionSms: SmsTemplate<{ fullName: string; rollNumber: string; reason?: string }> =
  {
    id: "rejection",
    render: ({ fullName, rollNumber, reason }) =>
      `Dear ${firstName(fullName)}, your Placement Portal registration (${rollNumber}) was not approved.${
        reason ? ` Reason: ${clip(reason, 120)}.` : ""
      } Please contact the placement office.`,
  };

export const testSms: SmsTemplate<{ time: string }> = {
  id: "test",
  render: ({ time }) => `Test message from Placement Portal. Time: ${time}`,
};

export const statusUpdateSms: SmsTemplate<{
  fullName: string;
  company: string;
  title: string;
  status: ApplicationStatus;
}> = {
  id: "status_update",
  render: ({ fullName, company, title, status }) =>
    `Dear ${firstName(fullName)}, your status for ${clip(company, 40)} - ${clip(title, 40)} has been updated to '${
      STATUS_LABELS[status]
    }'. Check the Placement Portal for details.`,
};

export const jobPostedSms: SmsTemplate<{
  company: string;
  title: string;
  type: string;
  applyBy: string;
}> = {
  id: "job_posted",
  render: ({ company, title, type, applyBy }) =>
    `New opportunity: ${clip(company, 40)} - ${clip(title, 40)} (${type}). You are eligible. Apply by ${applyBy} on the Placement Portal.`,
};

/** A long announcement is cut to keep the SMS to a few segments; the portal has the whole text. */
export const announcementSms: SmsTemplate<{ title: string; message: string }> = {
  id: "announcement",
  render: ({ title, message }) => {
    const text = clip(message, 300);
    return `Placement Office: ${clip(title, 60)}. ${text}${text.endsWith("...") ? " Read it all on the Placement Portal." : ""}`;
  },
};
