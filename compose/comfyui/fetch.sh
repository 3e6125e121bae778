#!/bin/sh
# comfy-fetch URL COMMIT DIR: a shallow checkout of exactly one commit (no branch can move under us).
set -eu
if [ "$#" -ne 3 ]; then
  echo "usage: comfy-fetch <repository url> <commit> <directory>" >&2
  exit 2
fi
url=$1
commit=$2
dir=$3
git init --quiet "$dir"
git -C "$dir" remote add origin "$url"
git -C "$dir" fetch --quiet --depth 1 origin "$commit"
git -C "$dir" checkout --quiet --detach FETCH_HEAD
actual=$(git -C "$dir" rev-parse HEAD)
if [ "$actual" != "$commit" ]; then
  echo "comfy-fetch: $url is at $actual, expected $commit" >&2
  exit 1
fi
rm -rf "$dir/.git"
echo "comfy-fetch: $url @ $commit"
