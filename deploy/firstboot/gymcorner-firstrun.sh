#!/bin/sh
# gymcorner first boot: reads gymcorner.env from the boot partition, sets the hostname,
# joins Wi-Fi if asked, unpacks gymcorner.tar.gz and runs the installer. Runs once:
# from cloud-init's runcmd (user-data) or from cmdline.txt's systemd.run= on images
# without cloud-init. Its log: /var/log/gymcorner-firstboot.log.
set -eu
exec >>/var/log/gymcorner-firstboot.log 2>&1
echo "gymcorner first boot: $(date)"
BOOT=/boot/firmware
[ -d "$BOOT" ] || BOOT=/boot
[ -f "$BOOT/gymcorner.env" ] || { echo "no $BOOT/gymcorner.env"; exit 1; }
# shellcheck disable=SC1091
. "$BOOT/gymcorner.env"
case "$GYMCORNER_DEVICE_ID$GYMCORNER_HOSTNAME" in *[!A-Za-z0-9_-]*) echo "bad name in gymcorner.env"; exit 1 ;; esac

hostnamectl set-hostname "$GYMCORNER_HOSTNAME" 2>/dev/null || echo "$GYMCORNER_HOSTNAME" > /etc/hostname
sed -i "s/^127\.0\.1\.1.*/127.0.1.1\t$GYMCORNER_HOSTNAME/" /etc/hosts

if [ -n "${GYMCORNER_WIFI_SSID:-}" ] && command -v nmcli >/dev/null 2>&1; then
    raspi-config nonint do_wifi_country "${GYMCORNER_WIFI_COUNTRY:-GB}" 2>/dev/null || true
    nmcli radio wifi on
    nmcli device wifi connect "$GYMCORNER_WIFI_SSID" password "$GYMCORNER_WIFI_PASSWORD" || echo "wifi: not joined yet"
fi
# The installer needs the network for apt and pip.
for _ in $(seq 1 60); do getent hosts deb.debian.org >/dev/null && break; sleep 5; done

mkdir -p /opt/gymcorner/src
tar -xzf "$BOOT/gymcorner.tar.gz" -C /opt/gymcorner/src
sh /opt/gymcorner/src/deploy/install.sh --device-id "$GYMCORNER_DEVICE_ID" --mqtt-host "$GYMCORNER_MQTT_HOST"
# systemd.run= images: do not run again on the next boot.
sed -i 's| systemd.run=[^ ]*||; s| systemd.run_success_action=[^ ]*||; s| systemd.unit=kernel-command-line.target||' \
    "$BOOT/cmdline.txt" 2>/dev/null || true
echo "gymcorner first boot: done"
