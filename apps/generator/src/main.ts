#!/usr/bin/env node
// The `coupons` executable: the operator CLI and the ACI entry point (`coupons run`).
import { main } from "./cli.ts";

process.exitCode = await main(process.argv);
