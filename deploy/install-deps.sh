#!/usr/bin/env bash
# Installs the Debian 12 packages Vigil needs to build, test and run its local Kafka broker.
# Idempotent: packages already present are skipped, and apt is only touched when something is missing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates
  clang clang-format clang-tidy libclang-rt-14-dev
  librdkafka-dev librocksdb-dev libsimdjson-dev prometheus-cpp-dev libcivetweb-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libhyperscan-dev libicu-dev libpsl-dev publicsuffix libidn2-dev
  libcli11-dev libspdlog-dev libfmt-dev libyaml-cpp-dev libzstd-dev zlib1g-dev zstd
  kcat openjdk-17-jre-headless maven python3 python3-jsonschema python3-yaml python3-matplotlib ccache
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
