// One home for two small helpers the tests and the benchmark scripts share: a server URL pointed at
// another database (optionally as another login), and a loopback TCP port nobody listens on now.
import { type AddressInfo, createServer } from "node:net";

/** `url` with its database (path) replaced, and its login too when given. */
export function withDatabase(url: string, database: string, login?: { user: string; password: string }): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  if (login) {
    u.username = encodeURIComponent(login.user);
    u.password = encodeURIComponent(login.password);
  }
  return u.toString();
}

/** A loopback TCP port nobody listens on right now (two runs at once must not share one). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}
