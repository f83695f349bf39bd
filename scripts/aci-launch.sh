#!/usr/bin/env bash
# Starts one Azure Container Instances container group that generates one generation request, by running
# `coupons launch` (apps/generator/src/aci.ts): one launcher, so the group's name, restart policy (Never),
# resources and environment are the same whichever way it is started.
#
#   scripts/aci-launch.sh --request-id <id> [--dry-run] [other `coupons launch` options]
#
# Settings (environment, as `coupons launch --help` lists them):
#   AZ_RESOURCE_GROUP, AZ_LOCATION, AZ_IDENTITY_ID, COUPONS_IMAGE   (required)
#   AZ_IDENTITY_CLIENT_ID, AZ_SUBSCRIPTION_ID, COUPONS_CPU (1), COUPONS_MEMORY_GB (1.5)
#   COUPONS_MSSQL_SERVER + COUPONS_MSSQL_DATABASE (Azure SQL through the identity), or COUPONS_DATABASE_URL
#   (a secure value, never echoed), COUPONS_KEYVAULT_URL, COUPONS_*_SECRET
#
# Credentials: az login (DefaultAzureCredential). Runs the sources with Node 24 or newer, else the built CLI
# (apps/generator/dist, from `npx tsc -b`). To run every waiting request this way, use `coupons dispatch`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

for arg in "$@"; do
  if [[ "$arg" == "-h" || "$arg" == "--help" ]]; then
    # the comment block at the top of this file, and nothing else
    awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
    exit 0
  fi
done

major="$(node -p 'process.versions.node.split(".")[0]')"
if [[ "$major" -ge 24 ]]; then
  exec node --conditions=source --disable-warning=ExperimentalWarning "$root/apps/generator/src/main.ts" launch "$@"
fi
[[ -f "$root/apps/generator/dist/main.js" ]] || { echo "error: needs Node 24, or a build (npx tsc -b)" >&2; exit 2; }
exec node "$root/apps/generator/dist/main.js" launch "$@"
