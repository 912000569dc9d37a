#!/usr/bin/env bash
# Installs what Nephos needs on Debian 12 (as root), then builds it. Idempotent: installs only
# what is missing. `--test` adds what the test suites drive: Debian's real OpenStack clients,
# tempest, OpenLDAP's slapd and RabbitMQ tools.
set -euo pipefail
cd "$(dirname "$0")/.."

# qemu-utils: image inspection/conversion; qemu-system-x86: VMs; busybox-static, dropbear-bin,
# cpio: the Nephos guest image is built from them (its kernel is downloaded, not installed), lz4
# compresses its initramfs;
# syslinux, syslinux-common, mtools, dosfstools: its bootable disk (built without mounting);
# genisoimage: config drives (ISO 9660, label config-2); iproute2, nftables, dnsmasq-base: the
# network agent's data plane (namespaces/bridges/VXLAN, security groups and NAT, DHCP); conntrack:
# it forgets the flows of a removed security group rule; dnsmasq-utils: dhcp_release frees the lease
# of a deleted port so its address can go to a new port at once (as Neutron does); haproxy:
# the metadata proxy in each DHCP namespace (and load balancers).
runtime_pkgs=(ca-certificates qemu-utils qemu-system-x86 busybox-static dropbear-bin cpio lz4
  syslinux syslinux-common mtools dosfstools genisoimage iproute2 nftables conntrack dnsmasq-base dnsmasq-utils haproxy)
# python3-configobj … python3-yaml: what Debian's cloud-init modules import (the metadata acceptance
# test runs them, unpacked below, never installed as a service).
test_pkgs=(python3-openstackclient python3-openstacksdk python3-osc-placement tempest python3-subunit python3-keystone slapd ldap-utils iputils-ping
  python3-configobj python3-jinja2 python3-jsonpatch python3-jsonschema python3-netifaces python3-oauthlib python3-requests python3-yaml)
pkgs=("${runtime_pkgs[@]}")
[[ "${1:-}" == "--test" ]] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  # Package scripts must not start services (slapd): tests start their own on loopback.
  created_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; created_policy=1; fi
  trap '[[ $created_policy == 1 ]] && rm -f /usr/sbin/policy-rc.d' EXIT
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's cloud-init, for the metadata/config-drive acceptance test: its Python modules only,
# unpacked into a cache directory. Installed, its systemd units could reconfigure this machine.
if [[ "${1:-}" == "--test" ]]; then
  ci_dir=/var/cache/nephos/cloud-init
  if [[ ! -f $ci_dir/usr/lib/python3/dist-packages/cloudinit/sources/helpers/openstack.py ]]; then
    echo "setup: unpacking Debian's cloud-init into $ci_dir (its modules only: never installed as a service)"
    tmp=$(mktemp -d); chmod 755 "$tmp"
    (cd "$tmp" && { apt-get download -q cloud-init >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get download -q cloud-init >/dev/null; }; })
    rm -rf "$ci_dir.new" && mkdir -p "$ci_dir.new" && dpkg-deb -x "$tmp"/cloud-init_*.deb "$ci_dir.new"
    rm -rf "$ci_dir" && mv "$ci_dir.new" "$ci_dir" && rm -rf "$tmp"
  fi
fi

# npm dependencies: exactly the lockfile, reinstalled only when it changed.
if [[ ! -d node_modules ]] || [[ package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "setup: installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi

echo "setup: building"
npx tsc -p tsconfig.json
