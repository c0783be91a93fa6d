#!/usr/bin/env bash
# Installs the Debian 12 packages leadflow builds and runs with. Idempotent:
# only what is missing is installed. Run as root (or with sudo).
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config git python3
  protobuf-compiler protobuf-compiler-grpc libprotobuf-dev
  libgrpc++-dev libgrpc-dev
  librocksdb-dev librdkafka-dev libabsl-dev libphonenumber-dev libxxhash-dev libicu-dev
  libssl-dev libcpp-httplib-dev libfmt-dev libspdlog-dev libcli11-dev libyaml-cpp-dev libjemalloc-dev
  catch2 libbenchmark-dev clang-format clang-tidy kcat
  clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
