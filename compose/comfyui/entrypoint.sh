#!/bin/sh
# Starts ComfyUI; with COMFY_PROXY_ENABLED=true its outbound traffic (model downloads by the custom
# nodes) goes through COMFY_PROXY, except for COMFY_NO_PROXY (the compose services by default).
set -eu
case "${COMFY_PROXY_ENABLED:-false}" in
  true | 1 | yes)
    if [ -z "${COMFY_PROXY:-}" ]; then
      echo "COMFY_PROXY_ENABLED is true but COMFY_PROXY is empty" >&2
      exit 1
    fi
    export HTTP_PROXY="$COMFY_PROXY" HTTPS_PROXY="$COMFY_PROXY" http_proxy="$COMFY_PROXY" https_proxy="$COMFY_PROXY"
    export NO_PROXY="${COMFY_NO_PROXY:-}" no_proxy="${COMFY_NO_PROXY:-}"
    echo "comfyui: outbound traffic through the proxy (except: ${COMFY_NO_PROXY:-nothing})"
    ;;
  *)
    unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy
    ;;
esac
cd /opt/ComfyUI
exec python main.py "$@"
