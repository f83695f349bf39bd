// Starts and stops the redeem API: listen, and a graceful stop (stop accepting, let in-flight
// requests finish up to a deadline, then close the throttle's Redis and the store).
import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { CouponStore } from "@coupons/db";
import type { Logger } from "pino";
import { type BuiltApp, createApp } from "./app.ts";
import type { ApiConfig } from "./config.ts";

export type RunningServer = {
  server: Server;
  built: BuiltApp;
  port: number;
  url: string;
  store: CouponStore;
};

export async function startServer(options: { store: CouponStore; config: ApiConfig; logger?: Logger }): Promise<RunningServer> {
  const built = createApp(options);
  await built.deps.throttle.ready();
  const server = built.app.listen(options.config.port, options.config.host);
  // keep-alive above a typical load balancer's idle timeout, so the balancer closes first
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 30_000;
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const host = options.config.host === "0.0.0.0" || options.config.host === "::" ? "127.0.0.1" : options.config.host;
  built.deps.logger.info({ port, engine: options.store.engine, throttle: built.deps.throttle.store }, "redeem API listening");
  return { server, built, port, url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`, store: options.store };
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
