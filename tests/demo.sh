#!/usr/bin/env bash
# make demo: start the lab, run site.yml twice (the second run must change nothing and log in to DSM
# at most once), then change the router's WAN address and let the mock DSM's Task Scheduler run the NAS's
# DDNS task (the records must follow, with no Ansible run), stop the lab. Usage: tests/demo.sh LAB_DIR
set -euo pipefail
lab=$(realpath -m "$1")
cd "$(dirname "$0")/.."

python -m tests.lab down "$lab"
if [ -f "$lab/nginx/run/nginx.pid" ]; then python -m tests.lab.dsm_nginx stop "$lab/nginx" || true; fi
rm -rf "$lab"
# Ports from the environment (0 = any free port); the inventory reads what was bound from lab.json.
python -m tests.lab up "$lab" --port "dsm.http_port=${LAB_DSM_HTTP_PORT:-15000}" \
  --port "dsm.https_port=${LAB_DSM_HTTPS_PORT:-15001}" --port "router.port=${LAB_ROUTER_PORT:-15002}" \
  --port "cloudflare.port=${LAB_CLOUDFLARE_PORT:-15003}" \
  --port "cloudflare.edge_https_port=${LAB_EDGE_HTTPS_PORT:-15004}" \
  --port "cloudflare.edge_http_port=${LAB_EDGE_HTTP_PORT:-15005}" >/dev/null
trap 'python -m tests.lab.dsm_nginx stop "$lab/nginx" || true; python -m tests.lab down "$lab"' EXIT
# The NAS's nginx: the DSM-shaped tree on a free loopback port, serving an Origin CA certificate, behind the
# lab's Cloudflare edge (the router's WAN address on 443 maps to it), so the verify role sees what a visitor does.
python -m tests.lab.dsm_nginx build "$lab/nginx"
python -m tests.lab.edge_origin "$lab" "$lab/nginx" >/dev/null
python -m tests.lab.dsm_nginx start "$lab/nginx"
# The mock DSM's Task Scheduler runs its scripts in that tree, and a reverse-proxy edit rewrites it, as on a NAS.
python -m tests.lab config "$lab" "{\"task_root\": \"$lab/nginx\", \"nginx_root\": \"$lab/nginx\"}" >/dev/null
export HOMELAB_NAS_LAB_DIR="$lab"

run() {
  ansible-playbook -i playbooks/inventory/lab playbooks/site.yml "$@" | tee "$lab/run.log"
}

echo "=== first run: brings the lab NAS to the declared state"
run --diff
python -m tests.lab log "$lab" --clear
echo "=== second run: must report changed=0"
run
grep -Eq 'lab-nas +: ok=[0-9]+ +changed=0 +unreachable=0 +failed=0' "$lab/run.log" \
  || { echo "FAIL: the second run changed something" >&2; exit 1; }
logins=$(python -m tests.lab log "$lab" --count SYNO.API.Auth.login)
echo "DSM logins during the second run: $logins"
[ "$logins" -le 1 ] || { echo "FAIL: expected at most one DSM login per run" >&2; exit 1; }
# DDNS with the controller off (exposure_ddns: cloudflare in the lab inventory): the ISP gives the router a new
# address, DSM's Task Scheduler runs the NAS's DDNS task, and the records follow without Ansible.
ddns_log="$lab/nginx/var/log/homelab-nas-ddns.log"
echo "=== DDNS: the task on the NAS published the router's address: $(tail -n 1 "$ddns_log" | cut -d' ' -f2-)"
python -m tests.lab config "$lab" '{"external_ip": "100.128.77.99"}' --mock router >/dev/null
python -m tests.lab config "$lab" '{"tick": true}' >/dev/null
line=$(tail -n 1 "$ddns_log" | cut -d' ' -f2-)
echo "=== DDNS: the router's address changed to 100.128.77.99, DSM ran the task: $line"
case "$line" in
  "changed: updated A photos.example.test 100.128.77.99"*) ;;
  *) echo "FAIL: the NAS's DDNS task did not publish the router's new address" >&2; exit 1 ;;
esac
echo "=== demo OK: second run changed=0, $logins login(s), DDNS followed the router's address"
