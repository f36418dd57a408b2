#!/usr/bin/env bash
# `npm run package:deb`: builds build/bgp-ts_<version>_<arch>.deb with dpkg-deb
# from this checkout, after `npm ci` (which compiled the addon) and the build.
# Layout of the package:
#   /usr/lib/bgp-ts/            dist/, package.json, production node_modules/,
#                               build/Release/bgpts_native.node, config/bgp-ts.schema.json
#   /usr/bin/bgp-ts             deploy/debian/bgp-ts: node <the daemon's V8 flags> /usr/lib/bgp-ts/dist/cli.js
#   /lib/systemd/system/bgp-ts.service   (deploy/bgp-ts.service)
#   /etc/bgp-ts/bgp-ts.yaml     conffile (deploy/debian/bgp-ts.yaml)
#   /usr/share/doc/bgp-ts/      README, the config reference, examples, peer configs
# postinst makes the system user bgp-ts; postrm purge removes it. Depends on
# Debian's nodejs at the version package.json's engines asks for.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

version=$(node -p 'require("./package.json").version')
node_floor=$(node -p 'require("./package.json").engines.node.replace(/^>=\s*/, "")')
arch=$(dpkg --print-architecture)
addon=build/Release/bgpts_native.node
[ -f "$addon" ] || { echo "package:deb: $addon missing: run npm ci (node-gyp needs build-essential and python3)" >&2; exit 1; }

stage=$root/build/deb/bgp-ts_${version}_${arch}
out=$root/build/bgp-ts_${version}_${arch}.deb
rm -rf "$stage"
lib=$stage/usr/lib/bgp-ts
mkdir -p "$lib/build/Release" "$lib/config" "$stage/usr/bin" "$stage/lib/systemd/system" \
  "$stage/etc/bgp-ts" "$stage/usr/share/doc/bgp-ts/examples" "$stage/DEBIAN"

# The daemon: built JavaScript, the addon, and production dependencies only
# (copied from node_modules and pruned, so no registry is needed here).
# A clean compile into the package (dist/ may hold files of older layouts); no maps, no .d.ts.
npx tsc -p tsconfig.build.json --outDir "$lib/dist" --sourceMap false --declaration false
cp package.json package-lock.json "$lib/"
cp "$addon" "$lib/build/Release/"
cp config/bgp-ts.schema.json "$lib/config/"
cp -r node_modules "$lib/node_modules"
(cd "$lib" && npm prune --omit=dev --ignore-scripts --offline --no-audit --no-fund >/dev/null)
rm -f "$lib/package-lock.json" "$lib/node_modules/.package-lock.json"
# What prune leaves of the dev tools: vitest's cache and the empty scope directories of removed packages.
rm -rf "$lib/node_modules/.vite" "$lib/node_modules/.vite-temp"
find "$lib/node_modules" -depth -type d -empty -delete
chmod 0755 "$lib/dist/cli.js"
install -m 0755 deploy/debian/bgp-ts "$stage/usr/bin/bgp-ts"

cp deploy/bgp-ts.service "$stage/lib/systemd/system/bgp-ts.service"
cp deploy/debian/bgp-ts.yaml "$stage/etc/bgp-ts/bgp-ts.yaml"
cp README.md docs/config-reference.md "$stage/usr/share/doc/bgp-ts/"
cp config/examples/*.yaml "$stage/usr/share/doc/bgp-ts/examples/"
cp -r config/peers "$stage/usr/share/doc/bgp-ts/examples/peers"
cp deploy/bgp-ts.rules.yml deploy/prometheus.yml "$stage/usr/share/doc/bgp-ts/examples/"
cat > "$stage/usr/share/doc/bgp-ts/copyright" <<COPYRIGHT
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: bgp-ts
License: Apache-2.0
 On Debian systems the full text is in /usr/share/common-licenses/Apache-2.0.
 Bundled node_modules keep their own licenses (see each package.json).
COPYRIGHT

cp deploy/debian/postinst deploy/debian/prerm deploy/debian/postrm "$stage/DEBIAN/"
chmod 0755 "$stage/DEBIAN/postinst" "$stage/DEBIAN/prerm" "$stage/DEBIAN/postrm"
echo /etc/bgp-ts/bgp-ts.yaml > "$stage/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
cat > "$stage/DEBIAN/control" <<CONTROL
Package: bgp-ts
Version: ${version}
Architecture: ${arch}
Maintainer: bgp-ts developers <bgp-ts@invalid>
Depends: nodejs (>= ${node_floor}), passwd
Section: net
Priority: optional
Installed-Size: ${size}
Homepage: https://github.com/bgp-ts/bgp-ts
Description: userspace BGP-4 speaker and route reflector for Kubernetes pod routes
 bgp-ts announces a node's pod CIDR blocks, learns the other nodes' blocks
 from its BGP peers and programs them into the Linux routing table, the way
 Calico's BIRD does. It runs as the systemd service bgp-ts.
CONTROL

dpkg-deb --root-owner-group -Zxz --build "$stage" "$out" >/dev/null
echo "$out"
