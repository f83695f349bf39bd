#!/usr/bin/env node
// The `coupons` executable: the operator CLI and the ACI entry point (`coupons run`).
// SIGTERM/SIGINT are caught from this first line on: the program loads for a moment (hundreds of
// milliseconds with TypeScript), and a container stopped then used to die with 143 and no word. A
// signal that arrives while it loads ends it with the interrupted exit code (5) and a log line,
// before any command touched anything; later ones are each command's own (drain, then 5).
const early: NodeJS.Signals[] = [];
const record = (signal: NodeJS.Signals) => {
  early.push(signal);
};
process.on("SIGTERM", record);
process.on("SIGINT", record);

// OpenTelemetry before the commands' modules load (nothing is loaded for it when it is not configured)
const { startTelemetry } = await import("./telemetry.ts");
const telemetry = await startTelemetry("coupons-generator");
const { main } = await import("./cli.ts");
const { EXIT } = await import("./errors.ts");
process.off("SIGTERM", record);
process.off("SIGINT", record);
if (early.length > 0) {
  const { createLogger } = await import("./progress.ts");
  createLogger().info(
    { event: "generation.stopped", signal: early[0] },
    `stopped by ${early[0]} while starting, before the command ran; nothing was changed`,
  );
  process.exitCode = EXIT.INTERRUPTED;
} else {
  process.exitCode = await main(process.argv);
}
await telemetry.shutdown(); // flush the last spans
