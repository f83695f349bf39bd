// Coupon lookups and assignment: GET /v1/coupons/{code}, PUT|DELETE /v1/coupons/{code}/assignment.
import { z } from "zod";
import type { Deps, Register } from "../app.ts";
import { requireScope } from "../auth.ts";
import { notFound } from "../problems.ts";
import { couponCode, parse, userId } from "../validation.ts";

const codeParams = z.object({ code: couponCode });
const assignBody = z.object({ userId }).strict();

export function couponRoutes(register: Register, deps: Deps): void {
  const { store } = deps;
  register("/v1/coupons/:code", {
    get: [
      requireScope(deps.config.apiKeys, "read"),
      async (req, res) => {
        const { code } = parse(codeParams, req.params, "path");
        const details = await store.getCouponDetails(code);
        if (!details) throw notFound(`coupon ${code.toUpperCase()} does not exist`, "COUPON_NOT_FOUND");
        res.json(details);
      },
    ],
  });

  register("/v1/coupons/:code/assignment", {
    put: [
      requireScope(deps.config.apiKeys, "admin"),
      async (req, res) => {
        const { code } = parse(codeParams, req.params, "path");
        const body = parse(assignBody, req.body, "body");
        res.json(await store.assignCoupon(code, body.userId));
      },
    ],
    delete: [
      requireScope(deps.config.apiKeys, "admin"),
      async (req, res) => {
        const { code } = parse(codeParams, req.params, "path");
        res.json(await store.unassignCoupon(code));
      },
    ],
  });
}
