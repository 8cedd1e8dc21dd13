#!/bin/sh
# Debian / Raspberry Pi OS packages gymcorner uses: mosquitto (the broker, and the tests'
# real broker), mosquitto-clients (mosquitto_sub for checks), ffmpeg (test clips with
# rotation tags), GStreamer and PyGObject's build deps (gst: camera sources), postgresql
# (the history tests' chain server). Installs what is missing when run as root; otherwise
# says what to run.
set -eu
need=""
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need="$need mosquitto"
command -v mosquitto_sub >/dev/null 2>&1 || need="$need mosquitto-clients"
command -v ffmpeg >/dev/null 2>&1 || need="$need ffmpeg"
command -v espeak-ng >/dev/null 2>&1 || need="$need espeak-ng"  # spoken feedback (motivation.speak)
# postgresql: the history tests start their own server with initdb/pg_ctl, which Debian keeps
# under /usr/lib/postgresql/<version>/bin (off PATH); the box itself needs no server.
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1 || need="$need postgresql"
# systemd-analyze: `verify` on deploy/systemd/gymcorner.service (tests/test_deploy.py); in
# the 'systemd' package, which slim container images leave out.
command -v systemd-analyze >/dev/null 2>&1 || need="$need systemd"
# the host side's tests: the C# decoder (mcs + mono), the browser viewer (headless Chromium
# driven through chromedriver) and the JavaScript decoder (node)
command -v mcs >/dev/null 2>&1 || need="$need mono-mcs"
command -v mono >/dev/null 2>&1 || need="$need mono-runtime"
command -v chromium >/dev/null 2>&1 || need="$need chromium"
command -v chromedriver >/dev/null 2>&1 || need="$need chromium-driver"
command -v node >/dev/null 2>&1 || need="$need nodejs"
# gst: camera sources (gymcorner.vision.gst_source): GStreamer, its typelibs for PyGObject
# (Gst, GstApp), the base plugins (videoconvert, videotestsrc for the tests), gst-launch-1.0
# to try a pipeline by hand, and what `pip install '.[gstreamer]'` builds PyGObject against.
if command -v dpkg-query >/dev/null 2>&1; then
    for pkg in gstreamer1.0-tools gstreamer1.0-plugins-base gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 \
               libgirepository1.0-dev gobject-introspection libcairo2-dev pkg-config gcc; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || need="$need $pkg"
    done
fi
[ -z "$need" ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing:$need"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
else
    echo "missing system packages:$need" >&2
    echo "install them with: sudo apt-get install$need" >&2
    echo "(without them the MQTT, rotation, GStreamer and PostgreSQL tests are skipped; the daemon still runs)" >&2
fi
