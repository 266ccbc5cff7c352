#!/usr/bin/env bash
# Install the system packages the test suite drives for real: headless Chromium for the page tests,
# Virtuoso Open Source for the remote-store tests, nginx (the caching reverse proxy) for the load tests.
# Idempotent; run by `make test` and CI. Without root or apt-get it only says what is missing, and
# the tests that need a missing program skip with that reason.
set -uo pipefail

packages=()
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
[ -d /usr/share/fonts/opentype/noto ] || packages+=(fonts-noto-cjk)  # Chinese text in page screenshots
command -v virtuoso-t >/dev/null 2>&1 || packages+=(virtuoso-opensource)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || packages+=(nginx)

[ ${#packages[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: not installing ${packages[*]} (needs root and apt-get); tests that need them will skip" >&2
    exit 0
fi
echo "system-deps: installing ${packages[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null \
    || echo "system-deps: could not install ${packages[*]}; tests that need them will skip" >&2
exit 0
