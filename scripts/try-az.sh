#!/usr/bin/env bash
# The Azure CLI against `rbactool emulator`, unchanged: cloud registration by endpoint discovery,
# service-principal login at the emulator's fake Entra ID, then the seed flow (role definition
# create/list/update/delete; assignment create with --assignee and --assignee-object-id; list -o table;
# delete). Nothing leaves 127.0.0.1: az gets a throwaway profile, no telemetry, no MSAL instance
# discovery, and a proxy on a closed loopback port for any address that is not loopback.
#
#   scripts/try-az.sh                      # starts its own emulator on a free port, stops it at the end
#   AZ=/path/to/az scripts/try-az.sh       # another az (default: az on PATH)
#   RBACTOOL="python -m rbactool" scripts/try-az.sh
#   (with RBACTOOL_ARM_ENDPOINT and RBACTOOL_CA_BUNDLE exported, it uses that running emulator instead)
#
# Exit code 0 when every step did what it should; the first failing step stops the script.
set -euo pipefail

AZ=${AZ:-az}
read -r -a RBACTOOL_CMD <<< "${RBACTOOL:-rbactool}"
command -v "$AZ" >/dev/null || { echo "try-az: az not found (install azure-cli, or set AZ=/path/to/az)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/try-az.XXXXXX")
emulator_pid=
cleanup() {
  if [ -n "$emulator_pid" ]; then kill "$emulator_pid" 2>/dev/null || true; wait "$emulator_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n== %s\n' "$*"; }

# --- 1. the emulator -------------------------------------------------------------------------
if [ -z "${RBACTOOL_ARM_ENDPOINT:-}" ]; then
  step "starting rbactool emulator"
  "${RBACTOOL_CMD[@]}" emulator --port 0 --state-dir "$work/emulator" >"$work/emulator.out" 2>"$work/emulator.err" &
  emulator_pid=$!
  for _ in $(seq 100); do grep -q '^export AZURE_TENANT_ID=' "$work/emulator.out" 2>/dev/null && break; sleep 0.1; done
  grep -q '^export AZURE_TENANT_ID=' "$work/emulator.out" || { cat "$work/emulator.err" >&2; exit 1; }
  eval "$(grep '^export ' "$work/emulator.out")"
fi
echo "emulator: $RBACTOOL_ARM_ENDPOINT (tenant $AZURE_TENANT_ID, subscription $AZURE_SUBSCRIPTION_ID)"

# --- 2. az, kept on loopback ------------------------------------------------------------------
export AZURE_CONFIG_DIR="$work/az"              # a throwaway az profile: your own login is untouched
export AZURE_CORE_COLLECT_TELEMETRY=false       # no telemetry upload
export AZURE_CORE_INSTANCE_DISCOVERY=false      # MSAL would ask login.microsoftonline.com about the authority
export AZURE_CORE_SURVEY_MESSAGE=false
export AZURE_CORE_NO_COLOR=true
export REQUESTS_CA_BUNDLE="$RBACTOOL_CA_BUNDLE"  # az (requests) trusts the emulator's local CA
export HTTPS_PROXY=http://127.0.0.1:9 HTTP_PROXY=http://127.0.0.1:9 NO_PROXY=127.0.0.1,localhost,::1
# ^ anything az tries outside loopback (its version check) fails at once on a closed local port

CTL="$RBACTOOL_ARM_ENDPOINT/__emulator"
ctl() { curl -fsS --cacert "$RBACTOOL_CA_BUNDLE" -H 'Content-Type: application/json' "$@"; }
SUB="/subscriptions/$AZURE_SUBSCRIPTION_ID"
ADA=11111111-1111-4111-8111-111111111111        # a user
BOT=22222222-2222-4222-8222-222222222222        # a service principal ...
BOT_APP=33333333-3333-4333-8333-333333333333    # ... and its application (client) id
TEAM=44444444-4444-4444-8444-444444444444       # a group with both as members
ROLE="Storage reader (try-az)"

step "az cloud register (endpoints discovered from GET /metadata/endpoints)"
"$AZ" cloud register -n RbactoolEmulator --endpoint-resource-manager "$RBACTOOL_ARM_ENDPOINT/" -o none
"$AZ" cloud set -n RbactoolEmulator -o none
"$AZ" cloud show -n RbactoolEmulator --query "endpoints.{login: activeDirectory, arm: resourceManager, graph: microsoftGraphResourceId}" -o table

step "az login --service-principal (the fake Entra ID accepts any client id and secret)"
"$AZ" login --service-principal -u try-az-client -p any-secret --tenant "$AZURE_TENANT_ID" \
  --query "[].{subscription: id, user: user.name}" -o table

step "seed the directory (users, service principals, groups and their members)"
ctl -X PUT "$CTL/principals/$ADA" -d '{"type": "User", "displayName": "Ada Lovelace", "userPrincipalName": "ada@contoso.example"}' >/dev/null
ctl -X PUT "$CTL/principals/$BOT" -d "{\"type\": \"ServicePrincipal\", \"displayName\": \"deploy-bot\", \"appId\": \"$BOT_APP\"}" >/dev/null
ctl -X PUT "$CTL/principals/$TEAM" -d "{\"type\": \"Group\", \"displayName\": \"Platform team\", \"members\": [\"$ADA\", \"$BOT\"]}" >/dev/null
echo "Ada (user), deploy-bot (service principal), Platform team (group of both)"

step "az role definition create / list / update"
cat >"$work/role.json" <<EOF
{"Name": "$ROLE", "Description": "created by try-az.sh",
 "Actions": ["Microsoft.Storage/storageAccounts/read"], "AssignableScopes": ["$SUB"]}
EOF
"$AZ" role definition create --role-definition "@$work/role.json" --query "{role: roleName, guid: name, roleType: roleType}" -o table
"$AZ" role definition list -n "$ROLE" --query "[].{role: roleName, guid: name, description: description}" -o table
# update: edit what az shows (it carries the id) and send it back
"$AZ" role definition list -n "$ROLE" --query "[0]" -o json \
  | sed -e 's/"description": "created by try-az.sh"/"description": "updated by try-az.sh"/' >"$work/update.json"
"$AZ" role definition update --role-definition "@$work/update.json" --query "{role: roleName, description: description}" -o table

step "az role assignment create --assignee (resolved through the Graph stand-in)"
"$AZ" role assignment create --role "$ROLE" --scope "$SUB" --assignee ada@contoso.example --query "{principal: principalId, principalType: principalType}" -o table
"$AZ" role assignment create --role Reader --scope "$SUB" --assignee "$TEAM" --query "{principal: principalId, principalType: principalType}" -o table

step "az role assignment create --assignee-object-id (twice: the second run is a no-op)"
for _ in 1 2; do
  "$AZ" role assignment create --role "$ROLE" --scope "$SUB" --assignee-object-id "$BOT" \
    --assignee-principal-type ServicePrincipal --query "{principal: principalId, principalType: principalType}" -o table
done

step "az role assignment list -o table (principal names from Graph)"
"$AZ" role assignment list --scope "$SUB" -o table
step "az role assignment list --assignee ada@contoso.example --include-groups (assignedTo follows membership)"
"$AZ" role assignment list --scope "$SUB" --assignee ada@contoso.example --include-groups --query "[].{role: roleDefinitionName, principal: principalName}" -o table

step "az role assignment delete, az role definition delete"
"$AZ" role assignment delete --scope "$SUB" --role "$ROLE" --assignee ada@contoso.example
"$AZ" role assignment delete --scope "$SUB" --role "$ROLE" --assignee-object-id "$BOT"
"$AZ" role assignment delete --scope "$SUB" --role Reader --assignee "$TEAM"
"$AZ" role definition delete -n "$ROLE"
left=$("$AZ" role definition list --custom-role-only --query "length(@)" -o tsv)
[ "$left" = 0 ] || { echo "try-az: $left custom roles left" >&2; exit 1; }
echo "no custom roles left"

step "what az asked (the emulator's request log)"
ctl "$CTL/requests" | tr ',' '\n' | grep -c '"method"' | sed 's/^/requests: /'
echo "done: az worked against the emulator"
