// A real PostgreSQL streaming replica of the test server, for replica.test.ts: pg_basebackup -R of
// the primary (TEST_POSTGRES_URL's server) into a temporary folder, started with pg_ctl as the
// postgres OS user on a port of its own, stopped and removed by stop(). When the primary's pg_hba
// has no replication line for 127.0.0.1, one (trust) is added and the configuration reloaded, and
// the file is restored by stop(). Needs to run as root or as the postgres user on the server's host.
import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { freePort } from "./urls.ts";

export type Replica = { port: number; urlFor(database: string): string; stop(): Promise<void> };

const BIN = process.env.PG_BIN_DIR || "/usr/lib/postgresql/15/bin";
const MARKER = "# coupons replica test (removed when the test ends)";

function asPostgres(cmd: string, args: string[]): string {
  const run = userInfo().username === "postgres" ? [cmd, args] : ["runuser", ["-u", "postgres", "--", cmd, ...args]];
  return execFileSync(run[0] as string, run[1] as string[], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 120_000 });
}

/** Why a replica cannot be started here, or null when it can. */
export function replicaSkipReason(primaryUrl: string): string | null {
  if (!primaryUrl) return "TEST_POSTGRES_URL is not set";
  const host = new URL(primaryUrl).hostname;
  if (host !== "127.0.0.1" && host !== "localhost") return `the primary (${host}) is not on this machine`;
  if (!existsSync(join(BIN, "pg_basebackup"))) return `no PostgreSQL binaries in ${BIN} (set PG_BIN_DIR)`;
  const user = userInfo().username;
  if (user !== "root" && user !== "postgres") return "starting a replica needs root or the postgres OS user";
  return null;
}

/** In a before hook: skips the suite when no replica can be started here, but fails it in CI, which
 *  must run it. Returns true when the suite was skipped. */
export function skipUnlessReplica(ctx: Mocha.Context, primaryUrl: string): boolean {
  const skip = replicaSkipReason(primaryUrl);
  if (!skip) return false;
  if (process.env.CI === "true") throw new Error(`CI must run the replica suite: ${skip}`);
  ctx.skip();
  return true;
}

export async function startReplica(primaryUrl: string, requestedPort?: number): Promise<Replica> {
  const port = requestedPort ?? (await freePort());
  const admin = new pg.Client({ connectionString: primaryUrl });
  await admin.connect();
  const setting = async (name: string) => (await admin.query(`SELECT current_setting('${name}') AS v`)).rows[0].v as string;
  const hbaFile = await setting("hba_file");
  const hbaBefore = readFileSync(hbaFile, "utf8");
  const primaryPort = new URL(primaryUrl).port || "5432";
  const dir = mkdtempSync(join(tmpdir(), "coupons-replica-"));
  const data = join(dir, "data");
  const asRoot = userInfo().username === "root";
  let started = false;
  let hbaChanged = false;
  const stop = async () => {
    try {
      if (started) asPostgres(join(BIN, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
    if (hbaChanged) {
      writeFileSync(hbaFile, hbaBefore);
      await admin.query("SELECT pg_reload_conf()").catch(() => {});
    }
    await admin.end().catch(() => {});
  };
  try {
    const canReplicate = hbaBefore
      .split("\n")
      .map((l) => l.replace(/#.*/, "").trim().split(/\s+/))
      .some((f) => f[0] === "host" && f[1] === "replication" && ["127.0.0.1/32", "all", "samehost"].includes(f[3] ?? ""));
    if (!canReplicate) {
      writeFileSync(hbaFile, `${hbaBefore.replace(/\n?$/, "\n")}${MARKER}\nhost replication all 127.0.0.1/32 trust\n`);
      hbaChanged = true;
      await admin.query("SELECT pg_reload_conf()");
    }
    if (asRoot) chownSync(dir, Number(asPostgres("id", ["-u"]).trim()), Number(asPostgres("id", ["-g"]).trim()));
    asPostgres(join(BIN, "pg_basebackup"), [
      "-h",
      "127.0.0.1",
      "-p",
      primaryPort,
      "-U",
      "postgres",
      "-D",
      data,
      "-R",
      "-X",
      "stream",
      "--checkpoint=fast",
      "--no-sync",
    ]);
    // A Debian cluster keeps its configuration outside the data folder: give the replica its own.
    // Hot standby needs these at least as high as on the primary.
    const same = ["max_connections", "max_worker_processes", "max_wal_senders", "max_prepared_transactions", "max_locks_per_transaction"];
    const conf = [
      `port = ${port}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${dir}'`,
      "hot_standby = on",
      "shared_buffers = 32MB",
      "fsync = off",
    ];
    for (const s of same) conf.push(`${s} = ${await setting(s)}`); // one query at a time on one client
    writeFileSync(join(data, "postgresql.conf"), `${conf.join("\n")}\n`);
    writeFileSync(join(data, "pg_hba.conf"), "local all all trust\nhost all all 127.0.0.1/32 trust\n");
    writeFileSync(join(data, "pg_ident.conf"), "");
    if (asRoot) execFileSync("chown", ["-R", "postgres:postgres", data]);
    asPostgres(join(BIN, "pg_ctl"), ["-D", data, "-l", join(dir, "replica.log"), "-w", "-t", "60", "start"]);
    started = true;
  } catch (err) {
    const log = existsSync(join(dir, "replica.log")) ? readFileSync(join(dir, "replica.log"), "utf8") : "";
    await stop();
    throw new Error(`could not start the replica: ${(err as Error).message}\n${log}`, { cause: err });
  }
  return {
    port,
    urlFor(database: string) {
      const u = new URL(primaryUrl);
      u.hostname = "127.0.0.1";
      u.port = String(port);
      u.pathname = `/${database}`;
      return u.toString();
    },
    stop,
  };
}
