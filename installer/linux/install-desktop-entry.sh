#!/bin/sh
# Add LineInspector to the desktop's application menu (this user; --system: all users, as
# root), pointing at this unpacked folder. --remove takes the entry away again.
set -eu
here=$(dirname "$(readlink -f "$0")")
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
case "${1:-}" in
  --system) apps=/usr/share/applications ;;
  --remove) rm -f "$apps/lineinspector.desktop"; echo "removed $apps/lineinspector.desktop"; exit 0 ;;
  "") ;;
  *) echo "usage: $0 [--system | --remove]" >&2; exit 2 ;;
esac
mkdir -p "$apps"
sed "s|@PREFIX@|$here|g" "$here/lineinspector.desktop" > "$apps/lineinspector.desktop"
chmod 644 "$apps/lineinspector.desktop"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$apps" 2>/dev/null || true
echo "installed $apps/lineinspector.desktop (starts $here/lineinspector)"
