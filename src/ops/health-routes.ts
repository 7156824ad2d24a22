import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { type DispatchLiveness, smsHealth } from "../sms/heartbeat.ts";
import { ATTEMPT_WINDOW_SECONDS, readSmsMetrics } from "../sms/metrics.ts";
import { readDispatchState } from "../sms/outbox.ts";

/**
 * What operators and their monitors read (decision 026):
 * - `/healthz`, public: `{"status":"ok","sms":"ok"|"paused"|"stalled","dispatchers":N}`, 200
 *   while the web process and its database answer, whatever `sms` says (a load balancer must
 *   not take a web process out because no worker runs); 503 when the database does not answer.
 * - `/metrics`, in the Prometheus text format, closed to the public: with METRICS_TOKEN set, only
 *   `Authorization: Bearer <token>`; without it, only connections from this machine's loopback
 *   address that came through no proxy.
 */

export interface HealthRouteOptions {
  /** The per-process cached liveness read (shared with the admin banner). */
  liveness: () => Promise<DispatchLiveness>;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "::ffff:127.0.0.1"]);

/** Equal strings in time that does not depend on where they differ (nor on their lengths). */
function sameSecret(given: string, expected: string): boolean {
  const digest = (text: string) => createHash("sha256").update(text).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/**
 * Whether this request may read /metrics. The socket's address, never X-Forwarded-For (anyone can
 * send that header). A reverse proxy on the same machine connects from loopback for everyone it
 * forwards, so a request carrying a proxy's forwarding header is refused in loopback mode: behind
 * a proxy, set METRICS_TOKEN.
 */
export function mayReadMetrics(request: FastifyRequest, token: string | undefined): boolean {
  if (token !== undefined) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? "");
    return match !== null && sameSecret(match[1]!, token);
  }
  const forwarded =
    request.headers["x-forwarded-for"] !== undefined || request.headers.forwarded !== undefined;
  return !forwarded && LOOPBACK.has(request.socket.remoteAddress ?? "");
}

/**
 * The gauges of one app, in a registry of its own (a process may build several apps: the tests).
 * prom-client is loaded on the first scrape, not at start: every web process of a cluster starts
 * without it, and most never serve /metrics.
 */
async function smsGauges() {
  const { Gauge, Registry } = await import("prom-client");
  const registry = new Registry();
  const gauge = (name: string, help: string, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry] });
  return {
    registry,
    messages: gauge(
      "portal_sms_messages",
      "SMS messages by kind and current status (queued and sending are the queue).",
      ["kind", "status"],
    ),
    oldestDue: gauge(
      "portal_sms_oldest_due_seconds",
      "Seconds the message due longest has waited since it became due (0: none is due).",
    ),
    attempts: gauge(
      "portal_sms_attempts_recent",
      `Send attempts that finished in the last ${ATTEMPT_WINDOW_SECONDS} seconds, by outcome (sent, captured, reconciled, retry, failed, opted_out, credentials), across every dispatcher.`,
      ["outcome"],
    ),
    rateLimited: gauge(
      "portal_sms_rate_limited_recent",
      `Attempts Twilio refused with its rate limit (429) in the last ${ATTEMPT_WINDOW_SECONDS} seconds.`,
    ),
    circuit: gauge(
      "portal_sms_circuit",
      "The circuit's state, 1 for the current one: closed (sending), open (Twilio not answering: nothing sent), half_open (one probe).",
      ["state"],
    ),
    paused: gauge(
      "portal_sms_paused",
      "1 while sending is paused, by reason: admin (an admin's pause), credentials (Twilio refused them).",
      ["reason"],
    ),
    dispatchers: gauge(
      "portal_sms_dispatchers_live",
      "SMS dispatchers whose heartbeat was seen within SMS_STALLED_AFTER_SECONDS.",
    ),
    stalled: gauge(
      "portal_sms_stalled",
      "1 while messages are due and no dispatcher is live (the admin banner says so too).",
    ),
  };
}

export async function healthRoutes(app: FastifyInstance, options: HealthRouteOptions) {
  const ctx = app.ctx;

  app.get("/healthz", async (_request, reply) => {
    const [state, live] = await Promise.all([readDispatchState(ctx), options.liveness()]);
    const paused = state.admin_paused_at !== null || state.credentials_error !== null;
    return reply
      .header("cache-control", "no-store")
      .send({ status: "ok", sms: smsHealth(paused, live), dispatchers: live.liveDispatchers });
  });

  let loaded: ReturnType<typeof smsGauges> | undefined;
  app.get("/metrics", async (request, reply) => {
    if (!mayReadMetrics(request, ctx.config.METRICS_TOKEN))
      return reply
        .code(403)
        .type("text/plain; charset=utf-8")
        .send(
          "Forbidden: /metrics needs Authorization: Bearer <METRICS_TOKEN>, or, without a token set, a connection from this machine.\n",
        );
    loaded ??= smsGauges();
    const [gauges, m] = await Promise.all([loaded, readSmsMetrics(ctx)]);
    gauges.messages.reset();
    for (const row of m.messages)
      gauges.messages.set({ kind: row.kind, status: row.status }, row.n);
    gauges.oldestDue.set(m.oldestDueSeconds);
    gauges.attempts.reset();
    for (const row of m.recentAttempts) gauges.attempts.set({ outcome: row.outcome }, row.n);
    gauges.rateLimited.set(m.recentRateLimited);
    for (const state of ["closed", "open", "half_open"] as const)
      gauges.circuit.set({ state }, m.circuit === state ? 1 : 0);
    gauges.paused.set({ reason: "admin" }, m.adminPaused ? 1 : 0);
    gauges.paused.set({ reason: "credentials" }, m.credentialsRefused ? 1 : 0);
    gauges.dispatchers.set(m.liveDispatchers);
    const paused = m.adminPaused || m.credentialsRefused;
    gauges.stalled.set(
      smsHealth(paused, { liveDispatchers: m.liveDispatchers, messagesDue: m.messagesDue }) ===
        "stalled"
        ? 1
        : 0,
    );
    return reply
      .header("cache-control", "no-store")
      .type(gauges.registry.contentType)
      .send(await gauges.registry.metrics());
  });
}
