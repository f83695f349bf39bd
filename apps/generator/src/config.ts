// The generator's settings from the environment: one zod schema, its type inferred, read once per
// process through @coupons/db's readEnv (numbers and booleans parsed by its one set of parsers). A
// flag given on the command line wins over its variable. The database settings (COUPONS_DATABASE_URL,
// COUPONS_MSSQL_*) are @coupons/db's own (storeConfigFromEnv).
import { MAX_ARCHIVE_BATCH, envInt, envNumber, parseDateText, readEnv } from "@coupons/db";
import { z } from "zod";
import { MAX_BATCH_SIZE } from "./pipeline.ts";

const text = () => z.string();
const date = () =>
  text().transform((t, ctx) => {
    try {
      return parseDateText(t);
    } catch (err) {
      ctx.addIssue({ code: "custom", message: (err as Error).message });
      return z.NEVER;
    }
  });

const schema = {
  // run / generate / demo
  COUPONS_REQUEST_ID: text().optional(),
  COUPONS_BATCH_SIZE: envInt(1, MAX_BATCH_SIZE).optional(),
  COUPONS_CONCURRENCY: envInt(1, 64).optional(),
  COUPONS_WORKER_ID: text().optional(),
  // archive (ops-main in ACI takes every setting from here)
  COUPONS_ARCHIVE_BEFORE: date().optional(),
  COUPONS_ARCHIVE_BATCH_SIZE: envInt(1, MAX_ARCHIVE_BATCH).optional(),
  COUPONS_ARCHIVE_FILE: text().optional(),
  COUPONS_ARCHIVE_BLOB_URL: text().optional(),
  COUPONS_ARCHIVE_BLOB_KEY: text().optional(),
  // launch (the ACI container group)
  AZ_SUBSCRIPTION_ID: text().optional(),
  AZ_RESOURCE_GROUP: text().optional(),
  AZ_LOCATION: text().optional(),
  AZ_IDENTITY_ID: text().optional(),
  AZ_IDENTITY_CLIENT_ID: text().optional(),
  AZ_ARM_ENDPOINT: text().optional(),
  COUPONS_IMAGE: text().optional(),
  COUPONS_CPU: envNumber(4).default(1),
  COUPONS_MEMORY_GB: envNumber(16).default(1.5),
  COUPONS_LOG_ANALYTICS_WORKSPACE_ID: text().optional(),
  COUPONS_LOG_ANALYTICS_KEY: text().optional(),
};

/** The flag each variable backs, named in the message when its value is refused. */
const FLAGS: Partial<Record<keyof typeof schema, string>> = {
  COUPONS_REQUEST_ID: "--request-id",
  COUPONS_BATCH_SIZE: "--batch-size",
  COUPONS_CONCURRENCY: "--concurrency",
  COUPONS_WORKER_ID: "--worker-id",
  COUPONS_ARCHIVE_BEFORE: "--before",
  COUPONS_ARCHIVE_BATCH_SIZE: "--batch-size",
  COUPONS_ARCHIVE_FILE: "--file",
  COUPONS_ARCHIVE_BLOB_URL: "--blob-url",
  COUPONS_CPU: "--cpu",
  COUPONS_MEMORY_GB: "--memory",
};

export type GeneratorConfig = z.infer<z.ZodObject<typeof schema>>;

/** Reads the settings; StoreError CONFIG (exit 2) names the first bad variable and its flag. */
export function loadGeneratorConfig(env: Record<string, string | undefined> = process.env): GeneratorConfig {
  return readEnv(schema, env, FLAGS);
}

/** The settings of `env`, read on first use (a command that needs none never fails on them). */
export function lazyConfig(env: Record<string, string | undefined> = process.env): () => GeneratorConfig {
  let config: GeneratorConfig | undefined;
  return () => {
    config ??= loadGeneratorConfig(env);
    return config;
  };
}
