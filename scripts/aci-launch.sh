#!/usr/bin/env bash
# Starts one Azure Container Instances container group that generates one generation request:
# the generator image with COUPONS_REQUEST_ID, the database settings, a user-assigned managed
# identity (Entra ID to Azure SQL, pulls from ACR), and --restart-policy OnFailure, so a container
# that crashes or is evicted is restarted and resumes the request (exit 5/6 and kills are resumable).
#
#   scripts/aci-launch.sh --request-id <id> [--dry-run]
#
# Settings (environment):
#   AZ_RESOURCE_GROUP   resource group of the container group            (required)
#   AZ_IDENTITY_ID      resource id of the user-assigned managed identity (required)
#   COUPONS_IMAGE       image, e.g. myacr.azurecr.io/coupons-generator:1.0 (required)
#   COUPONS_MSSQL_SERVER, COUPONS_MSSQL_DATABASE  Azure SQL server and database (Entra ID through the identity)
#   AZ_IDENTITY_CLIENT_ID  client id of that identity (given to the container as COUPONS_MSSQL_CLIENT_ID)
#   or COUPONS_DATABASE_URL  another database (passed as a secure variable, never echoed)
#   AZ_LOCATION (default: the resource group's), COUPONS_CPU (1), COUPONS_MEMORY_GB (1)
#
# A request that Failed for good (exit 1 or 3) is restarted by OnFailure with back-off and refused
# again each time; delete the group when the request is Generated or Failed:
#   az container delete -g "$AZ_RESOURCE_GROUP" -n <name> --yes
set -euo pipefail

usage() {
  sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
}

request_id=""
dry_run=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    --request-id) request_id="${2:-}"; shift 2 ;;
    --dry-run) dry_run=true; shift ;;
    -h | --help) usage ;;
    *) echo "error: unknown argument $1" >&2; usage ;;
  esac
done

fail() { echo "error: $1" >&2; exit 2; }
[[ -n "$request_id" ]] || fail "--request-id is required"
[[ "$request_id" =~ ^[A-Za-z0-9._-]{1,100}$ ]] || fail "--request-id must be 1-100 characters of A-Z a-z 0-9 . _ -"
: "${AZ_RESOURCE_GROUP:?AZ_RESOURCE_GROUP must be set}"
: "${AZ_IDENTITY_ID:?AZ_IDENTITY_ID must be set (resource id of the user-assigned identity)}"
: "${COUPONS_IMAGE:?COUPONS_IMAGE must be set}"

# Container group names: lower case, digits and dashes, at most 63 characters.
name="coupons-gen-$(echo "$request_id" | tr '[:upper:]' '[:lower:]' | tr -c 'a-z0-9-\n' '-' | cut -c1-50)"
name="${name%-}"

env_vars=("COUPONS_REQUEST_ID=$request_id")
secure_vars=()
if [[ -n "${COUPONS_DATABASE_URL:-}" ]]; then
  secure_vars+=("COUPONS_DATABASE_URL=$COUPONS_DATABASE_URL")
else
  : "${COUPONS_MSSQL_SERVER:?set COUPONS_MSSQL_SERVER and COUPONS_MSSQL_DATABASE, or COUPONS_DATABASE_URL}"
  : "${COUPONS_MSSQL_DATABASE:?COUPONS_MSSQL_DATABASE must be set}"
  env_vars+=("COUPONS_MSSQL_SERVER=$COUPONS_MSSQL_SERVER" "COUPONS_MSSQL_DATABASE=$COUPONS_MSSQL_DATABASE" "COUPONS_MSSQL_AUTH=managed-identity")
  if [[ -n "${AZ_IDENTITY_CLIENT_ID:-}" ]]; then env_vars+=("COUPONS_MSSQL_CLIENT_ID=$AZ_IDENTITY_CLIENT_ID"); fi
fi

cmd=(az container create
  --resource-group "$AZ_RESOURCE_GROUP"
  --name "$name"
  --image "$COUPONS_IMAGE"
  --assign-identity "$AZ_IDENTITY_ID"
  --acr-identity "$AZ_IDENTITY_ID"
  --restart-policy OnFailure
  --os-type Linux
  --cpu "${COUPONS_CPU:-1}"
  --memory "${COUPONS_MEMORY_GB:-1}"
  --environment-variables "${env_vars[@]}")
if [[ -n "${AZ_LOCATION:-}" ]]; then cmd+=(--location "$AZ_LOCATION"); fi
if [[ ${#secure_vars[@]} -gt 0 ]]; then cmd+=(--secure-environment-variables "${secure_vars[@]}"); fi

if $dry_run; then
  # print the command with secure values masked
  printf '%q ' "${cmd[@]}" | sed -E 's/(COUPONS_DATABASE_URL=)[^ ]*/\1***/'
  echo
  exit 0
fi

echo "Starting container group $name for request $request_id..." >&2
"${cmd[@]}" --output table
echo "Follow it:  az container logs -g $AZ_RESOURCE_GROUP -n $name --follow" >&2
echo "Remove it:  az container delete -g $AZ_RESOURCE_GROUP -n $name --yes" >&2
