// Starts and stops the redeem API: listen, and a graceful stop (stop accepting, let in-flight
// requests finish up to a deadline, then close the throttle's Redis and the store).
import { once } from "node:events";
import { STATUS_CODES, type Server, createServer } from "node:http";
import type { Duplex } from "node:stream";
import type { AddressInfo } from "node:net";
import type { CouponStore } from "@coupons/db";
import type { Logger } from "pino";
import { type BuiltApp, createApp } from "./app.ts";
import type { ApiConfig } from "./config.ts";
import { HttpProblem } from "./problems.ts";
import type { SchemaGate } from "./schema-gate.ts";

export type RunningServer = {
  server: Server;
  built: BuiltApp;
  port: number;
  url: string;
  store: CouponStore;
};

export async function startServer(options: {
  store: CouponStore;
  config: ApiConfig;
  logger?: Logger;
  schema?: SchemaGate;
}): Promise<RunningServer> {
  const built = createApp(options);
  await built.deps.throttle.ready();
  // the prefix -> campaign index loads in the background: until it has, calls share the unknown lane
  built.deps.admission.start();
  const limits = options.config.server;
  const server = createServer(
    {
      // a request's headers, and the whole request, must arrive in time (slow senders are closed)
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      // Node checks those timeouts on this period (its default of 30 s would let them overrun by as much)
      connectionsCheckingInterval: Math.min(1_000, Math.max(50, Math.floor(limits.headersTimeoutMs / 4))),
      // an idle keep-alive connection is closed after this (behind a proxy: above the proxy's idle timeout)
      keepAliveTimeout: limits.keepAliveTimeoutMs,
    },
    built.app,
  );
  // connections over the cap are closed as they arrive (Node's 'drop'), idle or not
  server.maxConnections = limits.maxConnections;
  let dropped = 0;
  let loggedAt = 0;
  server.on("drop", () => {
    // one line per 10 s at most, however many are refused
    dropped++;
    if (Date.now() - loggedAt < 10_000) return;
    built.deps.logger.warn({ dropped, maxConnections: limits.maxConnections }, "connections refused: at the connection cap");
    loggedAt = Date.now();
    dropped = 0;
  });
  server.on("clientError", answerClientError);
  server.listen(options.config.port, options.config.host);
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const host = options.config.host === "0.0.0.0" || options.config.host === "::" ? "127.0.0.1" : options.config.host;
  const { apiKeys, entra } = options.config;
  const auth = { apiKeys: apiKeys.length, entraTenant: entra?.tenantId ?? null };
  built.deps.logger.info({ port, engine: options.store.engine, throttle: built.deps.throttle.store, auth }, "redeem API listening");
  return { server, built, port, url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`, store: options.store };
}

/**
 * Requests Node's HTTP parser refuses before express sees them (a URL or headers past 16 KB, a
 * malformed request line, a timeout) get a problem document like every other refusal, not Node's
 * bare status line. As Node's own handler does, a socket whose response is already being written is
 * only closed (writing more would corrupt what the client reads).
 */
function answerClientError(err: Error & { code?: string }, socket: Duplex & { _httpMessage?: { headersSent?: boolean } | null }): void {
  if (err.code === "ECONNRESET" || !socket.writable || socket._httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  const { problem } =
    err.code === "HPE_HEADER_OVERFLOW"
      ? new HttpProblem(
          431,
          "HEADERS_TOO_LARGE",
          "The request's URL and headers are too large",
          "send a shorter URL and smaller headers (16 KB in all)",
        )
      : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
        ? new HttpProblem(408, "REQUEST_TIMEOUT", "The request was not received in time", "send the whole request promptly")
        : new HttpProblem(400, "BAD_REQUEST", "The request cannot be parsed as HTTP/1.1", "send a well-formed HTTP request");
  const { status } = problem;
  const body = JSON.stringify(problem);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/problem+json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Stops accepting, waits for in-flight requests (at most shutdownTimeoutMs), then closes the store. */
export async function stopServer(running: RunningServer, opts: { closeStore?: boolean } = {}): Promise<void> {
  const { server, built } = running;
  const { deps } = built;
  deps.state.shuttingDown = true;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const deadline = setTimeout(() => {
    deps.logger.warn("shutdown deadline reached; closing the connections still open");
    server.closeAllConnections();
  }, deps.config.shutdownTimeoutMs);
  // a keep-alive connection that finishes its request becomes idle: close those as they appear
  const sweeper = setInterval(() => server.closeIdleConnections(), 100);
  try {
    await closed;
  } finally {
    clearTimeout(deadline);
    clearInterval(sweeper);
  }
  await built.close();
  if (opts.closeStore !== false) await running.store.close();
  deps.logger.info("redeem API stopped");
}
