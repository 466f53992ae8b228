#!/bin/sh
# SPDX-License-Identifier: MIT
# Install the Debian 12 packages sinkholed needs: `deps.sh build` for building and running,
# `deps.sh fuzz` for the libFuzzer targets, `deps.sh test` for building and running every
# test (fuzzing included; chromium renders the dashboard in test_dashboard.py), `deps.sh package`
# for the Debian package (debian/, tests/package).
# Installs only what is missing, with no recommended packages, so the
# lists name everything a minimal Debian (debootstrap --variant=minbase) lacks: libc6-dev, for
# one, which gcc only recommends.
set -eu

build_pkgs="cmake make gcc libc6-dev pkg-config libuv1-dev libldns-dev libyaml-dev libyajl-dev libcurl4-openssl-dev libmicrohttpd-dev ca-certificates"
fuzz_pkgs="$build_pkgs clang libclang-rt-14-dev"
package_pkgs="$build_pkgs dpkg-dev debhelper lintian"
test_pkgs="$fuzz_pkgs libcmocka-dev ldnsutils bind9-dnsutils python3 openssl systemd logrotate iproute2 dnsperf valgrind strace prometheus dnsdist python3-yaml chromium"

case "${1:-build}" in
build) pkgs="$build_pkgs bind9-dnsutils" ;; # and dig, to query it as the Quick start does
fuzz) pkgs=$fuzz_pkgs ;;
test) pkgs=$test_pkgs ;;
package) pkgs=$package_pkgs ;;
*) echo "usage: $0 [build|fuzz|test|package]" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	sudo=""
elif command -v sudo >/dev/null 2>&1; then
	sudo="sudo"
else
	echo "deps.sh: need root (or sudo) to install:$missing" >&2
	exit 1
fi
echo "deps.sh: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null
