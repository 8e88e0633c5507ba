#!/usr/bin/env bash
# Re-vendor the front-end libraries from the npm registry (no build step; files are committed).
# Usage: scripts/vendor_static.sh   — versions are pinned below; bump them here.
set -euo pipefail
cd "$(dirname "$0")/.."
V=openkam/static/vendor
tmp=$(mktemp -d)
( cd "$tmp" && npm pack bootstrap@5.3.9 htmx.org@2.0.11 echarts@5.6.0 bootstrap-icons@1.13.2 >/dev/null )
for f in "$tmp"/*.tgz; do d="$tmp/$(basename "$f" .tgz)"; mkdir -p "$d"; tar xzf "$f" -C "$d"; done
mkdir -p $V/bootstrap $V/htmx $V/echarts $V/bootstrap-icons/fonts
cp "$tmp"/bootstrap-5.3.9/package/dist/css/bootstrap.min.css "$tmp"/bootstrap-5.3.9/package/dist/js/bootstrap.bundle.min.js "$tmp"/bootstrap-5.3.9/package/LICENSE $V/bootstrap/
cp "$tmp"/htmx.org-2.0.11/package/dist/htmx.min.js "$tmp"/htmx.org-2.0.11/package/LICENSE $V/htmx/
cp "$tmp"/echarts-5.6.0/package/dist/echarts.min.js "$tmp"/echarts-5.6.0/package/LICENSE $V/echarts/
cp "$tmp"/bootstrap-icons-1.13.2/package/font/bootstrap-icons.min.css "$tmp"/bootstrap-icons-1.13.2/package/LICENSE $V/bootstrap-icons/
cp "$tmp"/bootstrap-icons-1.13.2/package/font/fonts/*.woff2 $V/bootstrap-icons/fonts/
rm -rf "$tmp"
echo "vendored into $V"
