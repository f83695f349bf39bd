// The generation's spans: a run continues the trace of the operation that created its request (the
// traceparent stored with it), and each batch is a span with its counts. With no OpenTelemetry SDK
// running these are no-ops.
import { ROOT_CONTEXT, type Span, SpanStatusCode, context, propagation, trace } from "@opentelemetry/api";
import type { GenerationRequest } from "@coupons/db";

const tracer = trace.getTracer("coupons-generator");

async function inSpan<T>(span: Span, fn: (span: Span) => Promise<T>): Promise<T> {
  try {
    return await fn(span);
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    span.end();
  }
}

/** A generation run: the child of the request's stored traceparent, when it has one. */
export function traceRun<T>(request: GenerationRequest, workerId: string, fn: (span: Span) => Promise<T>): Promise<T> {
  const parent = request.traceparent ? propagation.extract(ROOT_CONTEXT, { traceparent: request.traceparent }) : context.active();
  const span = tracer.startSpan(
    "generation.run",
    {
      attributes: {
        "coupons.request_id": request.requestId,
        "coupons.campaign_id": request.campaignId,
        "coupons.codes.requested": request.requestedAmount,
        "coupons.codes.generated_before": request.generatedAmount,
        "coupons.worker_id": workerId,
      },
    },
    parent,
  );
  return context.with(trace.setSpan(parent, span), () => inSpan(span, fn));
}

export type BatchCounts = { inserted: number; existing: number; calls: number };

/** One batch (its bulk inserts, collided codes replaced), with the counts it ends with. */
export function traceBatch(size: number, fn: () => Promise<BatchCounts>): Promise<BatchCounts> {
  return tracer.startActiveSpan("generation.batch", { attributes: { "coupons.batch.size": size } }, (span) =>
    inSpan(span, async () => {
      const counts = await fn();
      span.setAttributes({
        "coupons.codes.inserted": counts.inserted,
        "coupons.codes.existing": counts.existing,
        "coupons.batch.calls": counts.calls,
      });
      return counts;
    }),
  );
}
