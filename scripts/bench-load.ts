// What the load benchmarks share (scripts/bench-soldout.ts): a lean HTTP/1.1 client for loopback, and
// the CPU time of a process or of every process of one name, read from /proc (Linux).
//
// The client keeps one connection per request in flight, writes requests built beforehand and reads
// each answer by its Content-Length: a load generator that shares 2 cores with the API and its
// database must cost them as little as it can (fetch cost about as much CPU per request as the API
// itself). It understands what the redeem API answers (no chunked bodies, no pipelining).
import { readFileSync, readdirSync } from "node:fs";
import { type Socket, connect } from "node:net";

export type Sent = { status: number; ms: number; code: string | null };

/** The bytes of a POST with a JSON body and an API key. */
export function postRequest(path: string, apiKey: string, body: unknown): Buffer {
  const json = JSON.stringify(body);
  return Buffer.from(
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-API-Key: ${apiKey}\r\n` +
      `Content-Length: ${Buffer.byteLength(json)}\r\n\r\n${json}`,
  );
}

/** One keep-alive connection to 127.0.0.1:port that sends one request at a time. */
export class RawConnection {
  readonly #socket: Socket;

  private constructor(socket: Socket) {
    this.#socket = socket;
  }

  static open(port: number): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, "127.0.0.1", () => {
        socket.off("error", reject);
        socket.on("error", () => {}); // a reset shows as "close" below
        resolve(new RawConnection(socket));
      });
      socket.setNoDelay(true);
      socket.once("error", reject);
    });
  }

  get usable(): boolean {
    return !this.#socket.destroyed && this.#socket.readyState === "open";
  }

  /** Sends `request` and reads its answer: status, the problem's code when there is one, and the time. */
  send(request: Buffer): Promise<Sent> {
    const socket = this.#socket;
    return new Promise((resolve) => {
      const started = performance.now();
      let got: Buffer = Buffer.alloc(0);
      const done = (status: number, code: string | null) => {
        socket.off("data", onData);
        socket.off("close", onClose);
        resolve({ status, ms: performance.now() - started, code });
      };
      const onData = (chunk: Buffer) => {
        got = got.length > 0 ? Buffer.concat([got, chunk]) : Buffer.from(chunk);
        const end = got.indexOf("\r\n\r\n");
        if (end < 0) return;
        const head = got.subarray(0, end).toString("latin1");
        const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (got.length < end + 4 + length) return;
        let code: string | null = null;
        try {
          code = (JSON.parse(got.subarray(end + 4, end + 4 + length).toString()) as { code?: string }).code ?? null;
        } catch {}
        done(Number(head.slice(9, 12)), code);
      };
      const onClose = () => done(0, "CONNECTION_CLOSED");
      socket.on("data", onData);
      socket.once("close", onClose);
      socket.write(request);
    });
  }

  close(): void {
    this.#socket.destroy();
  }
}

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
