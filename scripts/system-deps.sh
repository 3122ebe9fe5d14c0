#!/usr/bin/env bash
# Debian packages the test suite uses as real peers: mosquitto (the MQTT broker the line-I/O
# tests start on loopback and stop). Installed when missing and this is root on a system with
# apt-get (CI, a dev VM); elsewhere it says what is missing and the tests that need it skip.
# Quick when everything is there. Usage: scripts/system-deps.sh
set -uo pipefail
missing=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages for the tests: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/lineinspector-apt.log 2>&1; then
    apt-get update -q >>/tmp/lineinspector-apt.log 2>&1
    apt-get install -y -q --no-install-recommends "${missing[@]}" >>/tmp/lineinspector-apt.log 2>&1 \
      || echo "could not install ${missing[*]} (see /tmp/lineinspector-apt.log): tests that need them skip" >&2
  fi
else
  echo "not installed: ${missing[*]} (sudo apt-get install ${missing[*]}); tests that need them skip" >&2
fi
exit 0
