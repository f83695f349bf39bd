// The console's one way to the API: same origin, the operator's key in X-API-Key (kept in
// sessionStorage, so it leaves with the tab), JSON in and out, and every refusal turned into an
// ApiError carrying the API's problem document as it is.
const KEY = "coupons.console.apiKey";

export type Problem = { status: number; code: string; title: string; detail?: string };

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem | null;
  constructor(status: number, problem: Problem | null, message: string) {
    super(message);
    this.status = status;
    this.problem = problem;
  }
}

export const getKey = (): string | null => sessionStorage.getItem(KEY);
export const setKey = (key: string) => sessionStorage.setItem(KEY, key);
export const clearKey = () => sessionStorage.removeItem(KEY);

type Listener = (e: ApiError) => void;
let onAuthFailure: Listener = () => {};
/** The app hears of 401 and 403 answers wherever they happen, to show the sign-in or refusal page. */
export function listenAuthFailures(l: Listener): void {
  onAuthFailure = l;
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  const key = getKey();
  if (key) headers["x-api-key"] = key;
  if (body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
  } catch {
    throw new ApiError(0, null, "The API cannot be reached: the network or the server is down.");
  }
  const text = await res.text();
  let parsed: unknown = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!res.ok) {
    const p = parsed && typeof parsed === "object" && "code" in parsed ? (parsed as Problem) : null;
    const err = new ApiError(res.status, p, p ? (p.detail ?? p.title) : `The API answered ${res.status} ${res.statusText}`);
    if (res.status === 401 || res.status === 403) onAuthFailure(err);
    throw err;
  }
  return parsed as T;
}

export const enc = encodeURIComponent;

export type CampaignState = "active" | "upcoming" | "paused" | "ended";
export type Campaign = {
  campaignId: string;
  name: string;
  description: string | null;
  startDate: string;
  endDate: string;
  discountPercentage: number | null;
  discountAmount: number | null;
  maxRedemptionsPerUser: number | null;
  maxTotalRedemptions: number | null;
  currentRedemptions: number;
  isActive: boolean;
  createdAt: string;
  updatedAt: string;
};
export type ListedCampaign = Campaign & { state: CampaignState; redemptionPercentage: number | null };
export type SeriesPoint = { start: string; redemptions: number; refusals: Record<string, number>; reversals: number };
export type Stats = {
  campaignId: string;
  totalCoupons: number;
  redeemedCoupons: number;
  availableCoupons: number;
  expiredCoupons: number;
  series?: { interval: "hour" | "day"; since: string; until: string; points: SeriesPoint[] };
};
export type GenerationStatus = "Requested" | "Generating" | "Generated" | "Failed" | "Cancelled";
export type GenerationRequest = {
  requestId: string;
  campaignId: string;
  requestedAmount: number;
  generatedAmount: number;
  prefix: string;
  codeLength: number;
  expirationDate: string | null;
  status: GenerationStatus;
  startedAt: string | null;
  completedAt: string | null;
  failureReason: string | null;
  createdAt: string;
  workerId: string | null;
  progressPercent: number;
};
export type RequestList = {
  requests: GenerationRequest[];
  waiting: number;
  oldestWaitingSeconds: number | null;
  nextCursor: string | null;
};
export type FraudRow = {
  subject: string;
  attempts: number;
  refusals: number;
  distinctCodes: number;
  reasons: { reason: string; count: number }[];
  throttled?: number;
  firstSeen: string;
  lastSeen: string;
};
export type FraudReport = { by: "ip" | "user" | "campaign"; since: string; until: string; rows: FraudRow[] };
