// The burst sender of scripts/bench-soldout.ts, a worker thread of it: a flash sale's crowd comes from
// other clients than the neighbour it measures, so sending and reading hundreds of requests must not
// hold up the thread that times the neighbour. A message { port, key, requests: [{ code, userId,
// ipAddress }] } sends them all at once, one keep-alive connection each (opened before, kept between
// bursts), and answers { outcomes, seconds }.
import { parentPort } from "node:worker_threads";
import { RawConnection, type Sent, postRequest } from "./bench-load.ts";

type Burst = { port: number; key: string; requests: { code: string; userId: string; ipAddress: string }[] };

const pool: RawConnection[] = [];

parentPort?.on("message", async ({ port, key, requests }: Burst) => {
  for (let j = 0; j < requests.length; j++) {
    if (!pool[j]?.usable) pool[j] = await RawConnection.open(port);
  }
  const bytes = requests.map((body) => postRequest("/v1/redemptions", key, body));
  const t = performance.now();
  const outcomes: Sent[] = await Promise.all(bytes.map((b, j) => (pool[j] as RawConnection).send(b)));
  parentPort?.postMessage({ outcomes, seconds: (performance.now() - t) / 1000 });
});
