#!/usr/bin/env bash
# Installs every Debian package Nacre needs to build, test, fuzz and run.
# Debian 12 only; nothing is fetched from outside Debian's archive.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  clang libclang-rt-14-dev
  libboost-dev
  librocksdb-dev
  libprotobuf-dev protobuf-compiler
  libgrpc++-dev protobuf-compiler-grpc
  libfuse3-dev fuse3
  libisal-dev
  libzstd-dev
  libssl-dev
  catch2
  libcli11-dev
  nlohmann-json3-dev
  iproute2 procps psmisc python3
  fio
  sqlite3 rsync tar make
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
