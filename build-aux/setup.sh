#!/bin/sh
# Installs what building and testing Kiln needs, on Debian and Ubuntu.
# Elsewhere it prints the Debian names of what is needed and stops.
set -eu

PACKAGES="
meson ninja-build pkg-config gcc gettext
libglib2.0-dev libglib2.0-bin libgtk-4-dev libadwaita-1-dev
libsecret-1-dev libsecp256k1-dev nettle-dev libssl-dev libjson-glib-dev
libsoup-3.0-dev libsqlite3-dev libgnutls28-dev glib-networking libpng-dev libopendht-c-dev
libqrencode-dev
desktop-file-utils appstream-util appstream
dbus dbus-x11 gnome-keyring libsecret-tools
xvfb xauth x11-utils imagemagick xdotool
blender bubblewrap zbar-tools haskell-status-notifier-item-utils dunst
flatpak flatpak-xdg-utils xdg-dbus-proxy
at-spi2-core python3-gi xdg-desktop-portal xdg-desktop-portal-gtk xdg-desktop-portal-gnome
fonts-noto-cjk man-db
"

if [ -r /etc/os-release ]; then
  . /etc/os-release
fi
case " ${ID:-} ${ID_LIKE:-} " in
  *" debian "*|*" ubuntu "*) ;;
  *)
    echo "setup: this is not Debian or Ubuntu; install the equivalents of these packages, then run make again:" >&2
    echo $PACKAGES >&2
    exit 1
    ;;
esac

# Node.js and npm run the devnet tools; take Debian's only where npm is missing.
if ! command -v npm >/dev/null 2>&1; then
  PACKAGES="$PACKAGES nodejs npm"
fi

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing="$missing $p"
  fi
done

if [ -n "$missing" ]; then
  echo "setup: installing:$missing"
  if [ "$(id -u)" = 0 ]; then
    SUDO=""
  elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "setup: these packages are missing and neither root nor sudo is available:$missing" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

# The devnet's npm packages, from the committed lock file.
if [ -x build-aux/setup-npm.sh ]; then
  build-aux/setup-npm.sh
fi
