# The one-shot models service: curl (resumable downloads, proxy from COMFY_PROXY / HTTPS_PROXY), unzip
# (InsightFace's buffalo_l archive) and sha256sum; the script and the manifest it reads.
# Build context: compose/ (docker build -f compose/models.Dockerfile compose).
FROM alpine:3.20
RUN apk add --no-cache curl unzip coreutils
COPY models/fetch-models.sh models/manifest.tsv /opt/models/
# Root: a fresh models_cache volume belongs to root; ComfyUI (uid 1000) only reads the files.
ENTRYPOINT ["/bin/sh", "/opt/models/fetch-models.sh"]
