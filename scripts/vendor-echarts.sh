#!/usr/bin/env bash
# Re-fetch the ECharts build that `vetctl report --format html` inlines and verify it against
# vetctl/assets/echarts.version (version, file in the package, sha256 of that file, the
# registry's integrity of the package).
#
#   scripts/vendor-echarts.sh           fetch with `npm pack`, verify, and write
#                                       vetctl/assets/echarts.common.min.js, its LICENSE,
#                                       NOTICE and LICENSE-d3
#   scripts/vendor-echarts.sh --check   fetch and verify only; also compare the committed file
#
# Upgrading: change version= in echarts.version, run with sha256= empty once to see the new
# hash, review, record it, run again.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
assets=vetctl/assets
pin=$assets/echarts.version

field() { sed -n "s/^$1=//p" "$pin"; }
package=$(field package)
version=$(field version)
file=$(field file)
sha256=$(field sha256)
integrity=$(field integrity)
[[ -n $package && -n $version && -n $file ]] || { echo "vendor-echarts: $pin is incomplete" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$package@$version" >/dev/null)
tarball=$(ls "$work"/*.tgz)

got_integrity="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
if [[ -n $integrity && $got_integrity != "$integrity" ]]; then
    echo "vendor-echarts: $package@$version integrity $got_integrity, expected $integrity" >&2
    exit 1
fi
tar -xzf "$tarball" -C "$work"
got=$(sha256sum "$work/package/$file" | cut -d' ' -f1)
if [[ $got != "$sha256" ]]; then
    echo "vendor-echarts: $file of $package@$version has sha256 $got, expected ${sha256:-(none recorded)}" >&2
    exit 1
fi

if [[ ${1:-} == --check ]]; then
    committed=$(sha256sum "$assets/$(basename "$file")" | cut -d' ' -f1)
    [[ $committed == "$sha256" ]] || { echo "vendor-echarts: committed $assets/$(basename "$file") differs ($committed)" >&2; exit 1; }
    echo "vendor-echarts: $package@$version verified ($sha256)"
    exit 0
fi
cp "$work/package/$file" "$assets/$(basename "$file")"
cp "$work/package/LICENSE" "$assets/echarts.LICENSE"
cp "$work/package/NOTICE" "$assets/echarts.NOTICE"
cp "$work/package/licenses/LICENSE-d3" "$assets/echarts.LICENSE-d3"
echo "vendor-echarts: $package@$version written to $assets ($sha256)"
