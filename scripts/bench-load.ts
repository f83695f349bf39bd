// What the load benchmarks share (scripts/bench-soldout.ts): the senders of a burst, run in a worker
// thread of the benchmark (each as the source text of a CommonJS worker, `new Worker(text, { eval:
// true })`, answering a message { base, key, codes, first } with { outcomes, seconds }), and the CPU
// time of a process or of every process of one name, read from /proc (Linux).
import { readFileSync, readdirSync } from "node:fs";

/** The burst's sender (a worker thread): the same request as redeem() below, all at once. */
export const BURST_WORKER = `
const { parentPort } = require("node:worker_threads");
parentPort.on("message", async ({ base, key, codes, first }) => {
  const one = async (code, i) => {
    const started = performance.now();
    const res = await fetch(base + "/v1/redemptions", {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": key },
      body: JSON.stringify({ code, userId: "u" + i, ipAddress: "10." + ((i >> 16) & 255) + "." + ((i >> 8) & 255) + "." + (i & 255) }),
    });
    const body = await res.json().catch(() => ({}));
    return { status: res.status, ms: performance.now() - started, code: body.code ?? null };
  };
  const t = performance.now();
  const outcomes = await Promise.all(codes.map((code, j) => one(code, first + j)));
  parentPort.postMessage({ outcomes, seconds: (performance.now() - t) / 1000 });
});
`;

/** The same burst from plain sockets, as a load generator sends it: one keep-alive connection per
 *  request, opened before the burst; the requests are bytes built beforehand and the answers are read
 *  by their Content-Length. It costs this machine (shared with the API and PostgreSQL) about half the
 *  CPU per request that fetch does. */
export const RAW_BURST_WORKER = `
const { parentPort } = require("node:worker_threads");
const net = require("node:net");
const pool = [];
const connect = (port) => new Promise((resolve, reject) => {
  const s = net.connect(port, "127.0.0.1", () => resolve(s));
  s.setNoDelay(true);
  s.once("error", reject);
});
parentPort.on("message", async ({ base, key, codes, first }) => {
  const port = Number(new URL(base).port);
  for (let j = 0; j < codes.length; j++) {
    if (!pool[j] || pool[j].destroyed || pool[j].readyState !== "open") pool[j] = await connect(port);
  }
  const requests = codes.map((code, j) => {
    const i = first + j;
    const body = JSON.stringify({ code, userId: "u" + i, ipAddress: "10." + ((i >> 16) & 255) + "." + ((i >> 8) & 255) + "." + (i & 255) });
    return Buffer.from("POST /v1/redemptions HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nContent-Type: application/json\\r\\nX-API-Key: " + key + "\\r\\nContent-Length: " + Buffer.byteLength(body) + "\\r\\n\\r\\n" + body);
  });
  const one = (s, request) => new Promise((resolve) => {
    const started = performance.now();
    let got = Buffer.alloc(0);
    const done = (status, code) => {
      s.off("data", onData);
      s.off("close", onClose);
      resolve({ status, ms: performance.now() - started, code });
    };
    const onData = (chunk) => {
      got = got.length ? Buffer.concat([got, chunk]) : chunk;
      const end = got.indexOf("\\r\\n\\r\\n");
      if (end < 0) return;
      const head = got.subarray(0, end).toString("latin1");
      const length = Number(/content-length: *(\\d+)/i.exec(head)?.[1] ?? 0);
      if (got.length < end + 4 + length) return;
      let code = null;
      try { code = JSON.parse(got.subarray(end + 4, end + 4 + length).toString()).code ?? null; } catch {}
      done(Number(head.slice(9, 12)), code);
    };
    const onClose = () => done(0, "CONNECTION_CLOSED");
    s.on("data", onData);
    s.once("close", onClose);
    s.write(request);
  });
  const t = performance.now();
  const outcomes = await Promise.all(requests.map((r, j) => one(pool[j], r)));
  parentPort.postMessage({ outcomes, seconds: (performance.now() - t) / 1000 });
});
`;

/** CPU seconds (user + system) of a process, or of every process whose command is `name`. */
export function cpuSeconds(which: number | string): number {
  const pids = typeof which === "number" ? [String(which)] : readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      if (typeof which === "string" && stat.slice(stat.indexOf("(") + 1, close) !== which) continue;
      const fields = stat.slice(close + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {}
  }
  return ticks / 100;
}
