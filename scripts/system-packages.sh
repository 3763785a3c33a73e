#!/usr/bin/env bash
# Installs the Debian packages the tests need when they are missing: RabbitMQ and
# PostgreSQL (the real broker and database), prometheus (promtool and a real server), wrk
# (the load generator of the gateway benchmark), and Chromium with its chromedriver (the
# browser tests of the web page, tests/browser), and npm (which fetches axe-core, the
# accessibility checker those tests run in the page).
# Safe to repeat; as root it installs, otherwise it says what to install.
set -euo pipefail

declare -A needed=(
  [rabbitmqctl]=rabbitmq-server
  [pg_isready]=postgresql
  [promtool]=prometheus
  [wrk]=wrk
  [chromium]=chromium
  [chromedriver]=chromium-driver
  [npm]=npm
)
missing=()
for command in "${!needed[@]}"; do
  command -v "$command" >/dev/null || missing+=("${needed[$command]}")
done
((${#missing[@]})) || exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "missing Debian packages: ${missing[*]} (run: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
echo "installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
if [[ " ${missing[*]} " == *" postgresql "* ]]; then
  # The tests connect as postgres over TCP without a password, as on the project's machines.
  hba=$(ls /etc/postgresql/*/main/pg_hba.conf | sort -V | tail -n 1)
  sed -i -E 's/^(host\s+all\s+all\s+127\.0\.0\.1\/32\s+)\S+/\1trust/' "$hba"
fi
