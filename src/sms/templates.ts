import { STATUS_LABELS } from "../applications/status.ts";
import type { ApplicationStatus } from "../db/schema.ts";
import { fitVariablesToSegments, normaliseForSms } from "./encoding.ts";

/**
 * The text of every SMS the portal sends. Fixed templates with variables, as India's DLT rules
 * require (each must be registered with the operators before it can be delivered to Indian
 * numbers); `id` is the name the registration is kept under.
 *
 * Each template renders within its own segment budget (`maxSegments`) in the encoding the text
 * will really be sent in: free text (names, a reason, a company, a title, an announcement) is cut
 * with "..." just enough to fit, and look-alikes such as curly quotes, long dashes and ₹ are
 * replaced with GSM-7 characters (normaliseForSms), so the queued body is the body that is sent.
 */

export interface SmsTemplate<Vars> {
  id: string;
  /** The most segments a rendered text may take, whatever its variables. */
  maxSegments: number;
  render(vars: Vars): string;
}

// A roll number is not cut: registration allows only A-Z, 0-9, / and -, at most 20 of them.

function firstName(fullName: string): string {
  return fullName.trim().split(/\s+/)[0] ?? fullName;
}

export const approvalSms: SmsTemplate<{ fullName: string; rollNumber: string }> = {
  id: "approval",
  maxSegments: 2,
  render: ({ fullName, rollNumber }) =>
    fitVariablesToSegments(
      (v) =>
        `Dear ${v.name}, your Placement Portal account (${rollNumber}) has been approved. You can now log in and apply for jobs.`,
      { name: firstName(fullName) },
      approvalSms.maxSegments,
    ),
};

export const rejectionSms: SmsTemplate<{ fullName: string; rollNumber: string; reason?: string }> =
  {
    id: "rejection",
    maxSegments: 2,
    render: ({ fullName, rollNumber, reason }) =>
      fitVariablesToSegments(
        (v) =>
          `Dear ${v.name}, your Placement Portal registration (${rollNumber}) was not approved.${
            v.reason ? ` Reason: ${v.reason}.` : ""
          } Please contact the placement office.`,
        { name: firstName(fullName), reason: reason ?? "" },
        rejectionSms.maxSegments,
      ),
  };

export const testSms: SmsTemplate<{ time: string }> = {
  id: "test",
  maxSegments: 1,
  render: ({ time }) => normaliseForSms(`Test message from Placement Portal. Time: ${time}`),
};

export const statusUpdateSms: SmsTemplate<{
  fullName: string;
  company: string;
  title: string;
  status: ApplicationStatus;
}> = {
  id: "status_update",
  maxSegments: 2,
  render: ({ fullName, company, title, status }) =>
    fitVariablesToSegments(
      (v) =>
        `Dear ${v.name}, your status for ${v.company} - ${v.title} has been updated to '${
          STATUS_LABELS[status]
        }'. Check the Placement Portal for details.`,
      { name: firstName(fullName), company, title },
      statusUpdateSms.maxSegments,
    ),
};

export const jobPostedSms: SmsTemplate<{
  company: string;
  title: string;
  type: string;
  applyBy: string;
}> = {
  id: "job_posted",
  maxSegments: 2,
  render: (vars) =>
    fitVariablesToSegments(
      (v) =>
        `New opportunity: ${v.company} - ${v.title} (${v.type}). You are eligible. Apply by ${v.applyBy} on the Placement Portal.`,
      vars,
      jobPostedSms.maxSegments,
    ),
};

/**
 * An announcement is cut to keep the SMS to two segments; when it is, the text says the portal
 * has the whole of it.
 */
export const announcementSms: SmsTemplate<{ title: string; message: string }> = {
  id: "announcement",
  maxSegments: 2,
  render: ({ title, message }) =>
    fitVariablesToSegments(
      (v, cut) =>
        `Placement Office: ${v.title}. ${v.message}${cut ? " Read it all on the Placement Portal." : ""}`,
      { title, message },
      announcementSms.maxSegments,
    ),
};
