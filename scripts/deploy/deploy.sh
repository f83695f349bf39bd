#!/usr/bin/env bash
# Deploys a whole coupon platform environment into one resource group, in order:
#   1. the resource group
#   2. infrastructure without the API (main.bicep, deployApi=false): Log Analytics, identities, registry,
#      Key Vault, Azure SQL with the Entra admin
#   3. the images, built and pushed in the registry (az acr build: no local Docker needed)
#   4. the API keys secret in Key Vault (from --api-keys-file; the value never appears on a command line)
#   5. the database: a temporary firewall rule for this machine (--client-ip), the migrations as the Entra
#      admin, 0004_security.sql, then add_managed_identity.sql per identity, with its roles (docs/deployment.md)
#   6. the API (main.bicep again, deployApi=true) on Container Apps, and the generator's Container Apps Jobs
#      (deployJobs=true: an execution per waiting request, the quarterly archive, the daily key purge)
#
#   scripts/deploy/deploy.sh --resource-group <rg> --location <region> \
#     --sql-admin-login <entra group name> --sql-admin-object-id <its object id> [options] [--dry-run]
#
# Options (or environment):
#   --resource-group (AZ_RESOURCE_GROUP)   --location (AZ_LOCATION)      --prefix (COUPONS_PREFIX, default coupons)
#   --sql-admin-login (SQL_ADMIN_LOGIN)    --sql-admin-object-id (SQL_ADMIN_OBJECT_ID)
#   --sql-admin-type Group|User|Application (default Group)
#   --deployer-object-id (DEPLOYER_OBJECT_ID)  gets Key Vault Secrets Officer, to store the API keys
#   --api-keys-file <file>                 JSON for COUPONS_API_KEYS ([{"id","sha256","scopes"}]), stored in Key Vault
#   --client-ip <address>                  this machine's public address, allowed on the SQL server during step 5
#   --tag <tag>                            image tag (default: the git commit, else "latest")
#   --skip-images, --skip-database         leave those steps out
#   --dry-run                              print every step and run none of them (contacts nothing)
#
# Needs: az (logged in, Owner or Contributor + User Access Administrator on the resource group), sqlcmd (Go
# edition, for Entra sign-in) and node/npm (for the migrations). The signed-in user must be (a member of)
# the SQL Entra admin for step 5.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

# usage [code]: the comment block at the top of this file (and nothing else), then exit (default 0)
usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
  exit "${1:-0}"
}
fail() {
  echo "error: $1" >&2
  exit 2
}

resource_group="${AZ_RESOURCE_GROUP:-}"
location="${AZ_LOCATION:-}"
prefix="${COUPONS_PREFIX:-coupons}"
sql_admin_login="${SQL_ADMIN_LOGIN:-}"
sql_admin_object_id="${SQL_ADMIN_OBJECT_ID:-}"
sql_admin_type="Group"
deployer_object_id="${DEPLOYER_OBJECT_ID:-}"
api_keys_file=""
client_ip=""
tag=""
skip_images=false
skip_database=false
dry_run=false

while [[ $# -gt 0 ]]; do
  case "$1" in
    --resource-group) resource_group="${2:-}"; shift 2 ;;
    --location) location="${2:-}"; shift 2 ;;
    --prefix) prefix="${2:-}"; shift 2 ;;
    --sql-admin-login) sql_admin_login="${2:-}"; shift 2 ;;
    --sql-admin-object-id) sql_admin_object_id="${2:-}"; shift 2 ;;
    --sql-admin-type) sql_admin_type="${2:-}"; shift 2 ;;
    --deployer-object-id) deployer_object_id="${2:-}"; shift 2 ;;
    --api-keys-file) api_keys_file="${2:-}"; shift 2 ;;
    --client-ip) client_ip="${2:-}"; shift 2 ;;
    --tag) tag="${2:-}"; shift 2 ;;
    --skip-images) skip_images=true; shift ;;
    --skip-database) skip_database=true; shift ;;
    --dry-run) dry_run=true; shift ;;
    -h | --help) usage ;;
    *) echo "error: unknown argument $1" >&2; usage 2 >&2 ;;
  esac
done

[[ -n "$resource_group" ]] || fail "--resource-group (or AZ_RESOURCE_GROUP) is required"
[[ "$resource_group" =~ ^[-A-Za-z0-9._()]{1,90}$ ]] || fail "--resource-group is not a valid resource group name"
[[ -n "$location" ]] || fail "--location (or AZ_LOCATION) is required"
[[ "$location" =~ ^[a-z0-9]+$ ]] || fail "--location must be a region name like westeurope"
[[ "$prefix" =~ ^[a-z][a-z0-9]{2,9}$ ]] || fail "--prefix must be 3-10 lower case letters and digits, starting with a letter"
[[ -n "$sql_admin_login" ]] || fail "--sql-admin-login (or SQL_ADMIN_LOGIN) is required: the Entra group (or user) that administers SQL"
guid='^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$'
[[ "$sql_admin_object_id" =~ $guid ]] || fail "--sql-admin-object-id (or SQL_ADMIN_OBJECT_ID) must be the admin's object id (a GUID)"
[[ "$sql_admin_type" =~ ^(Group|User|Application)$ ]] || fail "--sql-admin-type must be Group, User or Application"
[[ -z "$deployer_object_id" || "$deployer_object_id" =~ $guid ]] || fail "--deployer-object-id must be a GUID"
[[ -z "$api_keys_file" || -f "$api_keys_file" ]] || fail "--api-keys-file $api_keys_file does not exist"
[[ -z "$client_ip" || "$client_ip" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || fail "--client-ip must be an IPv4 address"
if [[ -z "$tag" ]]; then
  tag="$(git -C "$root" rev-parse --short=12 HEAD 2>/dev/null || echo latest)"
fi
[[ "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || fail "--tag must be a valid image tag"

step_no=0
step() {
  step_no=$((step_no + 1))
  echo
  echo "== step $step_no: $1"
}

# Prints a command (shell-quoted) and runs it, unless --dry-run.
run() {
  printf '+'
  printf ' %q' "$@"
  printf '\n'
  if ! $dry_run; then "$@"; fi
}

# A deployment output: read from Azure, or a placeholder in a dry run.
output() {
  if $dry_run; then
    echo "<$1>"
  else
    az deployment group show --resource-group "$resource_group" --name "$deployment" \
      --query "properties.outputs.$1.value" --output tsv
  fi
}

if ! $dry_run; then
  for tool in az sqlcmd npm; do
    command -v "$tool" >/dev/null || fail "$tool is not installed (see docs/deployment.md)"
  done
  az account show --output none 2>/dev/null || fail "not signed in to Azure: run az login"
else
  echo "DRY RUN: printing every step; nothing is run and nothing is contacted."
fi

deployment="coupons-$prefix"
common_params=(
  prefix="$prefix"
  location="$location"
  sqlAdminLogin="$sql_admin_login"
  sqlAdminObjectId="$sql_admin_object_id"
  sqlAdminPrincipalType="$sql_admin_type"
  deployerObjectId="$deployer_object_id"
)

step "resource group $resource_group in $location"
run az group create --name "$resource_group" --location "$location" --output none

step "infrastructure without the API (Log Analytics, identities, registry, Key Vault, Azure SQL)"
run az deployment group create --resource-group "$resource_group" --name "$deployment" \
  --template-file "$here/main.bicep" --parameters "${common_params[@]}" deployApi=false --output none

registry_name="$(output registryName)"
registry_server="$(output registryLoginServer)"
vault_name="$(output keyVaultName)"
sql_server_name="$(output sqlServerName)"
sql_server_fqdn="$(output sqlServerFqdn)"
database_name="$(output databaseName)"
generator_identity="$(output generatorIdentityName)"
api_identity="$(output apiIdentityName)"
generator_image="$registry_server/coupons-generator:$tag"
api_image="$registry_server/coupons-redeem-api:$tag"

step "images $generator_image and $api_image"
if $skip_images; then
  echo "skipped (--skip-images)"
else
  run az acr build --registry "$registry_name" --image "coupons-generator:$tag" --file "$root/Dockerfile.generator" "$root"
  run az acr build --registry "$registry_name" --image "coupons-redeem-api:$tag" --file "$root/Dockerfile.api" "$root"
fi

step "API keys secret coupons-api-keys in Key Vault $vault_name"
if [[ -n "$api_keys_file" ]]; then
  run az keyvault secret set --vault-name "$vault_name" --name coupons-api-keys --file "$api_keys_file" --output none
else
  echo "skipped: no --api-keys-file (the secret coupons-api-keys must exist before the API starts)"
fi

step "database $database_name on $sql_server_fqdn: migrations, roles, users for both identities"
if $skip_database; then
  echo "skipped (--skip-database)"
else
  work="$(mktemp -d)"
  cleanup() {
    rm -rf "$work"
    if [[ -n "$client_ip" ]]; then
      run az sql server firewall-rule delete --resource-group "$resource_group" --server "$sql_server_name" \
        --name deploy-client --output none || true
    fi
  }
  trap cleanup EXIT
  if [[ -n "$client_ip" ]]; then
    run az sql server firewall-rule create --resource-group "$resource_group" --server "$sql_server_name" \
      --name deploy-client --start-ip-address "$client_ip" --end-ip-address "$client_ip" --output none
  fi
  # the migrator signs in as the deployer (Azure CLI through DefaultAzureCredential), an Entra admin
  run env COUPONS_MSSQL_SERVER="$sql_server_fqdn" COUPONS_MSSQL_DATABASE="$database_name" COUPONS_MSSQL_AUTH=default \
    npm --prefix "$root" run --silent migrate
  sqlcmd_args=(--server "tcp:$sql_server_fqdn,1433" --database-name "$database_name"
    --authentication-method ActiveDirectoryDefault --exit-on-error)
  run sqlcmd "${sqlcmd_args[@]}" --input-file "$root/database/mssql/0004_security.sql"
  identity_name='^[A-Za-z0-9_-]{3,128}$'
  for identity in "$generator_identity" "$api_identity"; do
    # the roles of the processes the identity runs (database/mssql/R__0900_grants.sql)
    if [[ "$identity" == "$generator_identity" ]]; then roles="coupon_generator coupon_ops"; else roles="coupon_api"; fi
    # the name goes into T-SQL: allow only what Azure allows in identity names
    $dry_run || [[ "$identity" =~ $identity_name ]] || fail "unexpected identity name $identity"
    # the script names its user coupons-app-identity and creates it WITH OBJECT_ID (display names can
    # be ambiguous); a copy names this identity and its principal id instead
    if $dry_run; then principal="00000000-0000-0000-0000-000000000001"; else
      principal="$(az identity show --resource-group "$resource_group" --name "$identity" --query principalId --output tsv)"
    fi
    [[ "$principal" =~ ^[0-9a-fA-F-]{36}$ ]] || fail "unexpected principal id $principal of identity $identity"
    sed -e "s/coupons-app-identity/$identity/g" -e "s/00000000-0000-0000-0000-000000000000/$principal/g" \
      -e "s/coupons-app-roles/$roles/g" \
      "$root/database/mssql/security/add_managed_identity.sql" >"$work/$identity.sql"
    run sqlcmd "${sqlcmd_args[@]}" --input-file "$work/$identity.sql"
  done
  cleanup
  trap - EXIT
fi

step "redeem API on Container Apps ($api_image) and the generator's jobs ($generator_image)"
run az deployment group create --resource-group "$resource_group" --name "$deployment" \
  --template-file "$here/main.bicep" --parameters "${common_params[@]}" deployApi=true apiImage="$api_image" \
  deployJobs=true generatorImage="$generator_image" --output none

echo
echo "Done."
echo "  API:         $(output apiUrl)"
echo "  Generation requests run as executions of the job $(output generationJobName) (Container Apps Jobs)."
echo "  Or an ACI container group per request (from a machine signed in with az; dispatch runs until stopped):"
echo "    AZ_RESOURCE_GROUP=$resource_group AZ_LOCATION=$location COUPONS_IMAGE=$generator_image \\"
echo "    AZ_IDENTITY_ID=$(output generatorIdentityId) AZ_IDENTITY_CLIENT_ID=$(output generatorIdentityClientId) \\"
echo "    COUPONS_MSSQL_SERVER=$sql_server_fqdn COUPONS_MSSQL_DATABASE=$database_name \\"
echo "    npm run coupons -- dispatch     (or: launch --request-id <id>)"
