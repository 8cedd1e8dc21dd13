#!/usr/bin/env bash
# A fresh Raspberry Pi OS 13 in a folder: a Debian 13 "trixie" arm64 root made with
# debootstrap and run under qemu-user-static, the project installed into it with the root's
# own python3 (3.13) as on a new Pi, `gymcorner analyze` run on one clip there, and its
# landmarks compared with the same clip analysed on this (x86-64) machine.
#
#   sudo tools/arm64_check.sh [CLIP] [ROOT_DIR]
#
# Slow (every arm64 instruction is emulated: about 15-30 minutes on 2 cores), so it is not
# part of `make test`; run it by hand after changing dependencies. Needs root and a kernel
# that lets binfmt_misc be mounted. Prints what it does and ends with a comparison line.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
clip=${1:-../shared/data/kaiakol_exercises/squat/incorrect/squat_incorrect_003.mp4}
root=${2:-/var/tmp/gymcorner-arm64}
host_python=${HOST_PYTHON:-$repo/.venv/bin/python}  # this machine's side of the comparison
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
[ -f "$clip" ] || { echo "arm64_check: clip not found: $clip" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "arm64_check: needs root (debootstrap, chroot, binfmt_misc)" >&2; exit 2; }

step() { printf '\n== %s\n' "$*"; }

step "host packages: debootstrap qemu-user-static binfmt-support"
need=""
command -v debootstrap >/dev/null || need="$need debootstrap"
[ -x /usr/bin/qemu-aarch64-static ] || need="$need qemu-user-static"
command -v update-binfmts >/dev/null || need="$need binfmt-support"
if [ -n "$need" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
[ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || true
[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || { echo "arm64_check: qemu-aarch64 binfmt handler not registered" >&2; exit 1; }

if [ ! -x "$root/usr/bin/python3" ]; then
    step "debootstrap trixie arm64 into $root (python3, venv, pip, CA certificates)"
    debootstrap --arch=arm64 --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
        trixie "$root" "$mirror"
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
# This machine's trust store, so pip inside the root reaches the package index the way the host does.
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
chroot "$root" python3 --version
chroot "$root" uname -m

step "the project into the root, installed as on a fresh Pi (venv from the root's python3, pip install .)"
rm -rf "$root/opt/gymcorner-src"
mkdir -p "$root/opt/gymcorner-src" "$root/opt/clip"
git -C "$repo" archive HEAD | tar -x -C "$root/opt/gymcorner-src"
cp "$clip" "$root/opt/clip/"
mount_all() {
    mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
    mountpoint -q "$root/dev" || mount --bind /dev "$root/dev"
}
umount_all() { umount "$root/proc" 2>/dev/null || true; umount "$root/dev" 2>/dev/null || true; }
trap umount_all EXIT
mount_all
chroot "$root" sh -c 'cd /opt && { [ -x venv/bin/python ] || python3 -m venv venv; } && venv/bin/pip install --quiet --disable-pip-version-check ./gymcorner-src'
chroot "$root" /opt/venv/bin/pip list --disable-pip-version-check 2>/dev/null | grep -iE "numpy|opencv|litert|pydantic"

step "models fetch (pinned SHA-256), analyze and record on arm64"
name=$(basename "$clip")
chroot "$root" sh -c "cd /opt && export GYMCORNER_MODELS_DIR=/opt/models && venv/bin/gymcorner models fetch >/dev/null \
    && venv/bin/gymcorner analyze /opt/clip/$name --quiet && venv/bin/gymcorner record /opt/clip/$name --out /opt/arm64.npz --quiet"

step "the same clip on this machine"
"$host_python" -m gymcorner record "$clip" --out /tmp/gymcorner-x86.npz --quiet

step "landmarks, arm64 vs x86-64 (distance as a share of the frame diagonal, landmarks visible in both)"
"$host_python" - "$root/opt/arm64.npz" /tmp/gymcorner-x86.npz <<'PY'
import sys
import numpy as np
from gymcorner.recording import load_recording
a, b = (load_recording(p) for p in sys.argv[1:3])
both = a.present & b.present
print(f"frames {len(a)} / {len(b)}, person on {int(a.present.sum())} / {int(b.present.sum())}, both {int(both.sum())}")
ia, ib = a.image[both], b.image[both]
visible = (ia[..., 3] >= 0.5) & (ib[..., 3] >= 0.5)
px = np.array([a.width, a.height], dtype=np.float64)
dist = np.linalg.norm((ia[..., :2] - ib[..., :2]) * px, axis=-1)[visible] / np.hypot(*px)
print(f"landmark distance: mean {100 * dist.mean():.3f} %, p95 {100 * np.percentile(dist, 95):.3f} %, max {100 * dist.max():.3f} % of the diagonal")
PY
