#!/usr/bin/env bash
# Makes a real QEMU usable by the tests (tests/api/qemu), when it is not yet:
# - installs QEMU (TCG is enough), qemu-img, cpio and libvirt's QEMU driver;
# - creates the `libvirt-qemu` user and group a root libvirtd's QEMU driver insists on;
# - builds the test guest once: Debian's kernel (`vmlinuz`, and `vmlinux`: the same
#   kernel uncompressed, which QEMU boots through its PVH entry in half the time under
#   TCG, skipping the decompression) and a busybox initramfs (`initramfs.gz`), kept in
#   ${VIRTPLANE_GUEST_DIR:-/var/cache/virtplane-test-guest} (outside the checkout, so
#   clean clones reuse it) and rebuilt only when the recipe below changes.
# Safe to run repeatedly; silent when everything is present.
set -euo pipefail

# Bump whenever what ends up in the guest changes: the guest is rebuilt.
RECIPE="virtplane-test-guest 4: kernel (+vmlinux for PVH)+busybox, power-button watcher opened before the ready line, ttyS0 shell, virtio blk/net/balloon, CPU online"
GUEST_DIR="${VIRTPLANE_GUEST_DIR:-/var/cache/virtplane-test-guest}"
# Modules the guest loads when they are not built in (their dependencies come along):
# the ACPI power button and evdev (graceful shutdown), virtio disks, NICs and balloon
# (hot-plug, memory resize).
WANTED_MODULES=(evdev button virtio_pci virtio_blk virtio_net virtio_balloon)

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

pkg_missing() { ! dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

# --- packages ---------------------------------------------------------------------
missing=()
# Together: apt may replace a qemu-utils of another release to satisfy qemu-system-x86.
if ! command -v qemu-system-x86_64 >/dev/null || ! command -v qemu-img >/dev/null; then
  missing+=(qemu-system-x86 qemu-utils)
fi
command -v cpio >/dev/null || missing+=(cpio)
pkg_missing libvirt-daemon-driver-qemu && missing+=(libvirt-daemon-driver-qemu)
if [ "${#missing[@]}" -gt 0 ]; then
  echo "==> installing ${missing[*]}"
  $SUDO apt-get update -qq
  if ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    # A qemu-utils from a newer release (a backport installed by hand) breaks the
    # distribution's qemu-system-x86, and apt never downgrades on its own: take the
    # qemu-utils of qemu-system-x86's own release, so the two match.
    candidate=$(apt-cache policy qemu-system-x86 | awk '/Candidate:/ {print $2}')
    echo "==> retrying with qemu-utils=$candidate, to match qemu-system-x86"
    $SUDO apt-get install -y -qq --no-install-recommends --allow-downgrades \
      "${missing[@]/#qemu-utils/qemu-utils=$candidate}" >/dev/null
  fi
fi

# --- the user and group a root QEMU driver resolves before reading qemu.conf --------
getent group libvirt-qemu >/dev/null || $SUDO groupadd --system libvirt-qemu
getent passwd libvirt-qemu >/dev/null ||
  $SUDO useradd --system --gid libvirt-qemu --no-create-home \
    --home-dir /var/lib/libvirt --shell /usr/sbin/nologin libvirt-qemu

# --- the test guest -----------------------------------------------------------------
if [ -f "$GUEST_DIR/vmlinuz" ] && [ -f "$GUEST_DIR/initramfs.gz" ] &&
  [ "$(cat "$GUEST_DIR/stamp" 2>/dev/null)" = "$RECIPE" ]; then
  exit 0
fi

echo "==> building the test guest in $GUEST_DIR (once)"
work="$(mktemp -d /tmp/virtplane-guest-build.XXXXXX)"
trap 'rm -rf "$work"' EXIT
cd "$work"

kernel_pkg="$(apt-cache depends linux-image-amd64 2>/dev/null |
  sed -n 's/^ *Depends: \(linux-image-[0-9.]*-[0-9]*-amd64\)$/\1/p' | head -n1)"
if [ -z "$kernel_pkg" ] || ! apt-get download -qq "$kernel_pkg" busybox-static 2>/dev/null; then
  # Stale or missing package lists: refresh them once and ask again.
  $SUDO apt-get update -qq
  kernel_pkg="$(apt-cache depends linux-image-amd64 |
    sed -n 's/^ *Depends: \(linux-image-[0-9.]*-[0-9]*-amd64\)$/\1/p' | head -n1)"
  [ -n "$kernel_pkg" ] || { echo "no kernel package behind linux-image-amd64" >&2; exit 1; }
  apt-get download -qq "$kernel_pkg" busybox-static
fi

mkdir kernel busybox root
dpkg-deb --fsys-tarfile "$kernel_pkg"_*.deb | tar -x -C kernel
dpkg-deb --fsys-tarfile busybox-static_*.deb | tar -x -C busybox
moddir="$(dirname "$(find kernel -path '*/modules/*/modules.builtin' | head -n1)")"

# Module name -> file (names use `_` where file names may use `-`).
declare -A module_file=()
while IFS= read -r file; do
  name="$(basename "$file")"
  name="${name%%.ko*}"
  module_file["${name//-/_}"]="$file"
done < <(find "$moddir/kernel" -name '*.ko*')
declare -A builtin=()
while IFS= read -r file; do
  name="$(basename "$file")"
  name="${name%%.ko*}"
  builtin["${name//-/_}"]=1
done <"$moddir/modules.builtin"

# Copies a module (decompressed) into the initramfs after its dependencies, once.
declare -A placed=()
load_order=()
place_module() {
  local name="${1//-/_}" file dest dep
  [ -z "${placed[$name]:-}" ] || return 0
  placed[$name]=1
  [ -z "${builtin[$name]:-}" ] || return 0
  file="${module_file[$name]:-}"
  [ -n "$file" ] || { echo "module $name is neither built in nor shipped" >&2; exit 1; }
  dest="root/lib/modules/$name.ko"
  case "$file" in
    *.ko.xz) xz -dc "$file" >"$dest" ;;
    *.ko.zst) zstd -qdc "$file" >"$dest" ;;
    *.ko.gz) gzip -dc "$file" >"$dest" ;;
    *) cp "$file" "$dest" ;;
  esac
  for dep in $(tr '\0' '\n' <"$dest" | sed -n 's/^depends=//p' | tr ',' ' '); do
    place_module "$dep"
  done
  load_order+=("$name")
}
mkdir -p root/bin root/dev root/proc root/sys root/tmp root/lib/modules
for module in "${WANTED_MODULES[@]}"; do place_module "$module"; done

cp "$(find busybox -path '*/bin/busybox' | head -n1)" root/bin/busybox
for applet in sh; do ln -s busybox "root/bin/$applet"; done
printf '%s\n' "${load_order[@]}" >root/lib/modules/order

cat >root/init <<'INIT'
#!/bin/busybox sh
# The virtplane test guest: ready line, power button -> poweroff, shell on ttyS0,
# hot-added vCPUs online.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for module in $(cat /lib/modules/order); do
  insmod "/lib/modules/$module.ko" 2>/dev/null
done

# Hot-added vCPUs (and memory) come online, as udev would bring them.
uevent /bin/online-hotplugged &

# The ACPI power button (virsh shutdown): any byte from its event device -> poweroff.
buttons=""
for name in /sys/class/input/event*/device/name; do
  [ "$(cat "$name" 2>/dev/null)" = "Power Button" ] || continue
  event="${name%/device/name}"
  buttons="$buttons /dev/input/${event##*/}"
done
[ -n "$buttons" ] || buttons=/dev/input/event0
# Each device is opened here, before the ready line: a press that comes right after
# it waits in the open device instead of being lost while the watcher starts.
fd=3
for button in $buttons; do
  eval "exec $fd<$button"
  eval "( head -c 1 <&$fd >/dev/null 2>&1 && echo VIRTPLANE-GUEST-POWEROFF >/dev/ttyS0 &&
    poweroff -f ) &"
  fd=$((fd + 1))
done

echo "VIRTPLANE-GUEST-READY" >/dev/ttyS0

# An interactive shell on the serial console, with ttyS0 as its controlling tty.
while :; do
  setsid cttyhack sh -l </dev/ttyS0 >/dev/ttyS0 2>&1
  sleep 1
done
INIT
chmod 755 root/init
cat >root/bin/online-hotplugged <<'HOTPLUG'
#!/bin/sh
case "$ACTION:$SUBSYSTEM" in
  add:cpu | add:memory) echo 1 >"/sys$DEVPATH/online" 2>/dev/null ;;
esac
HOTPLUG
chmod 755 root/bin/online-hotplugged

(cd root && find . | cpio -o -H newc --quiet) | gzip -9 >initramfs.gz

# The kernel uncompressed (an ELF with a PVH entry): the xz stream inside the bzImage.
vmlinuz="$(find kernel -path '*/boot/vmlinuz-*' | head -n1)"
xz_offset="$(LC_ALL=C grep -obUa $'\xfd7zXZ' "$vmlinuz" | head -n1 | cut -d: -f1 || true)"
if [ -n "$xz_offset" ] && tail -c +$((xz_offset + 1)) "$vmlinuz" >vmlinux.xz &&
  xz -dc --single-stream vmlinux.xz >vmlinux 2>/dev/null &&
  [ "$(head -c 4 vmlinux | od -An -c | tr -d ' ')" = '177ELF' ]; then
  files=(vmlinuz vmlinux initramfs.gz)
else
  echo "==> (no uncompressed kernel: the guest boots from vmlinuz)"
  rm -f vmlinux
  files=(vmlinuz initramfs.gz)
fi
cp "$vmlinuz" vmlinuz

$SUDO mkdir -p "$GUEST_DIR"
$SUDO rm -f "$GUEST_DIR/stamp" "$GUEST_DIR/vmlinux"
for file in "${files[@]}"; do
  $SUDO cp "$file" "$GUEST_DIR/$file.new"
  $SUDO chmod 644 "$GUEST_DIR/$file.new"
  $SUDO mv "$GUEST_DIR/$file.new" "$GUEST_DIR/$file"
done
echo "$RECIPE" | $SUDO tee "$GUEST_DIR/stamp" >/dev/null
echo "==> test guest ready: $kernel_pkg, modules: ${load_order[*]:-none}"
