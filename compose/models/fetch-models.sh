#!/bin/sh
# The one-shot `models` service: fills ComfyUI's models folder (the models_cache volume) with every
# file compose/models/manifest.tsv lists, and exits 0 only when each one is there and verified.
#   MODELS_DIR           where the files go (default /models; ComfyUI mounts the same volume as models/)
#   MODELS_MANIFEST      the manifest (default: manifest.tsv beside this script)
#   MODELS_SOURCE_DIR    a folder of files already downloaded (FOLDER/FILE or FILE inside it): copied
#                        instead of fetched; files not in it are downloaded
#   MODELS_ALLOW_UNPINNED=true  accept a file whose manifest line has no sha256 (prints the one computed)
#   COMFY_PROXY, else HTTPS_PROXY / HTTP_PROXY: the proxy downloads go through
# Idempotent: a file already present with the right size and hash is left alone. A download is written
# to FILE.part and resumed from where it stopped (curl -C -); a file whose hash is wrong is refused
# and removed, never moved into place.
set -eu

models_dir=${MODELS_DIR:-/models}
manifest=${MODELS_MANIFEST:-$(dirname "$0")/manifest.tsv}
source_dir=${MODELS_SOURCE_DIR:-}
allow_unpinned=${MODELS_ALLOW_UNPINNED:-false}
if [ -n "${COMFY_PROXY:-}" ]; then
  export HTTPS_PROXY="$COMFY_PROXY" HTTP_PROXY="$COMFY_PROXY" https_proxy="$COMFY_PROXY" http_proxy="$COMFY_PROXY"
fi
tab=$(printf '\t')
failed=0

say() { printf 'models: %s\n' "$*"; }
size_of() { wc -c <"$1" | tr -d ' '; }
hash_of() { sha256sum "$1" | cut -d' ' -f1; }

# verify FILE SIZE SHA256: 0 when it matches what is known; unknown fields ("-") are not compared.
verify() {
  if [ "$2" != "-" ] && [ "$(size_of "$1")" != "$2" ]; then return 1; fi
  if [ "$3" != "-" ] && [ "$(hash_of "$1")" != "$3" ]; then return 1; fi
  return 0
}

# fetch URL PART: downloads (resuming PART) or, for URL#member, extracts one member of a zip archive.
fetch() {
  case "$1" in
    *'#'*)
      archive_url=${1%%#*}
      member=${1#*#}
      archive="$models_dir/.downloads/$(basename "$archive_url")"
      mkdir -p "$models_dir/.downloads"
      if [ ! -f "$archive" ]; then
        curl -fL --retry 3 -sS -C - -o "$archive.part" "$archive_url"
        mv "$archive.part" "$archive"
      fi
      entry=$(unzip -Z1 "$archive" | grep -E "(^|/)$member\$" | head -n 1)
      [ -n "$entry" ] || { say "$member is not in $archive_url"; return 1; }
      unzip -p "$archive" "$entry" >"$2"
      ;;
    *) curl -fL --retry 3 -sS -C - -o "$2" "$1" ;;
  esac
}

while IFS="$tab" read -r folder file size sha256 _licence url _note; do
  case "$folder" in '' | '#'*) continue ;; esac
  target="$models_dir/$folder/$file"
  mkdir -p "$models_dir/$folder"
  if [ -f "$target" ]; then
    if verify "$target" "$size" "$sha256"; then
      say "ok $folder/$file"
      continue
    fi
    say "$folder/$file does not match the manifest: fetching it again"
    rm -f "$target"
  fi
  part="$target.part"
  from=""
  if [ -n "$source_dir" ]; then
    for candidate in "$source_dir/$folder/$file" "$source_dir/$file"; do
      if [ -f "$candidate" ]; then from=$candidate && break; fi
    done
  fi
  if [ -n "$from" ]; then
    cp "$from" "$part"
  elif ! fetch "$url" "$part"; then
    say "FAILED $folder/$file: could not download $url (the partial file is kept; run again to resume)"
    failed=1
    continue
  fi
  if ! verify "$part" "$size" "$sha256"; then
    say "REFUSED $folder/$file: size $(size_of "$part") sha256 $(hash_of "$part") do not match the manifest"
    rm -f "$part"
    failed=1
    continue
  fi
  if [ "$sha256" = "-" ]; then
    if [ "$allow_unpinned" != "true" ]; then
      say "REFUSED $folder/$file: the manifest has no sha256 (MODELS_ALLOW_UNPINNED=true accepts it); computed: size $(size_of "$part") sha256 $(hash_of "$part")"
      rm -f "$part"
      failed=1
      continue
    fi
    say "unpinned $folder/$file size $(size_of "$part") sha256 $(hash_of "$part") (write these into the manifest)"
  fi
  mv "$part" "$target"
  say "fetched $folder/$file"
done <"$manifest"

if [ "$failed" -ne 0 ]; then
  say "some files are missing or refused: ComfyUI would not run the face workflow"
  exit 1
fi
say "every file of the manifest is in $models_dir"
