// A loopback OTLP/HTTP receiver for tests: what the processes' OTLP exporters (JSON encoding) POST
// to /v1/traces and /v1/metrics, decoded into flat spans and metric points.
import { once } from "node:events";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

export type Attributes = Record<string, string | number | boolean | null>;
export type ReceivedSpan = {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: number;
  attributes: Attributes;
};
export type ReceivedPoint = { service: string; metric: string; attributes: Attributes; value: number };

type AnyValue = { stringValue?: string; intValue?: number | string; doubleValue?: number; boolValue?: boolean };
type KeyValue = { key: string; value?: AnyValue };

function attributes(list: KeyValue[] | undefined): Attributes {
  const out: Attributes = {};
  for (const { key, value } of list ?? []) {
    const v = value ?? {};
    out[key] = v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ?? v.doubleValue ?? v.boolValue ?? null;
  }
  return out;
}

/** Ids as lower-case hex (the JSON encoding uses hex; base64 is accepted too). */
function hex(id: string | undefined): string | null {
  if (!id) return null;
  return /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, "base64").toString("hex");
}

type Resource = { resource?: { attributes?: KeyValue[] } };
const serviceOf = (r: Resource) => String(attributes(r.resource?.attributes)["service.name"] ?? "");

export type OtlpReceiver = { url: string; spans: ReceivedSpan[]; points: ReceivedPoint[]; requests: number; close(): Promise<void> };

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const receiver: OtlpReceiver = { url: "", spans: [], points: [], requests: 0, close: async () => {} };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let body = Buffer.concat(chunks);
      if (req.headers["content-encoding"] === "gzip") body = gunzipSync(body);
      if (!String(req.headers["content-type"]).startsWith("application/json")) {
        res.writeHead(415).end("this receiver decodes the JSON encoding only");
        return;
      }
      receiver.requests++;
      const doc = JSON.parse(body.toString("utf8"));
      if (req.url === "/v1/traces") {
        for (const rs of doc.resourceSpans ?? []) {
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              receiver.spans.push({
                service: serviceOf(rs),
                traceId: hex(s.traceId) ?? "",
                spanId: hex(s.spanId) ?? "",
                parentSpanId: hex(s.parentSpanId),
                name: s.name,
                kind: s.kind,
                attributes: attributes(s.attributes),
              });
            }
          }
        }
      } else if (req.url === "/v1/metrics") {
        for (const rm of doc.resourceMetrics ?? []) {
          for (const sm of rm.scopeMetrics ?? []) {
            for (const m of sm.metrics ?? []) {
              const points = m.sum?.dataPoints ?? m.gauge?.dataPoints ?? [];
              for (const p of points) {
                receiver.points.push({
                  service: serviceOf(rm),
                  metric: m.name,
                  attributes: attributes(p.attributes),
                  value: Number(p.asDouble ?? p.asInt ?? Number.NaN),
                });
              }
            }
          }
        }
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  receiver.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return receiver;
}

/** The span's ancestors' ids, nearest first, as far as the received spans go. */
export function ancestors(spans: readonly ReceivedSpan[], span: ReceivedSpan): string[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const out: string[] = [];
  let parent = span.parentSpanId;
  while (parent && !out.includes(parent)) {
    out.push(parent);
    parent = byId.get(parent)?.parentSpanId ?? null;
  }
  return out;
}
