# ComfyUI with only the custom node packs the face workflow uses (docs/comfyui.md), every repository at
# a pinned commit. The commits, their dates, how each was checked to exist and why it is pinned are in
# compose/comfyui-pins.tsv (scripts/comfy/verify-pins.ts checks this file against it).
# Build-time proxy: COMFY_BUILD_PROXY (git clone and pip); run-time proxy: COMFY_PROXY, used only when
# COMFY_PROXY_ENABLED=true, with COMFY_NO_PROXY as its exceptions.
# Build context: compose/ (docker build -f compose/comfyui.Dockerfile compose).
# Models are not baked in: they live in the models_cache volume mounted at /opt/ComfyUI/models, filled
# by the models service. Nothing is downloaded at start or first use: the preprocessors read their
# weights from models/aux_ckpts and Hugging Face Hub runs offline (a missing file is an error).
FROM pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime

ARG COMFY_BUILD_PROXY=""
ARG COMFYUI_COMMIT=071ff3e208ab8a6d4ac1a9d1bdcf5b73b69ed92c
ARG IPADAPTER_PLUS_COMMIT=b103c6740f17745b7a550fc35d89baa0b0fe68d1
ARG CONTROLNET_AUX_COMMIT=cc6b232f4a47f0cdf70f4e1bfa24b74bd0d75bf1
ARG ESSENTIALS_COMMIT=05b82cf39a6827d5462f9faf6935d50dd6283b57
ARG KJNODES_COMMIT=b37122a9fd079b2854fa92565582a195d6b03c92

ENV DEBIAN_FRONTEND=noninteractive \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1

SHELL ["/bin/bash", "-o", "pipefail", "-c"]

RUN export http_proxy="${COMFY_BUILD_PROXY}" https_proxy="${COMFY_BUILD_PROXY}" \
    && apt-get update \
    && apt-get install -y --no-install-recommends git ca-certificates libgl1 libglib2.0-0 build-essential tini \
    && rm -rf /var/lib/apt/lists/*

COPY comfyui/fetch.sh /usr/local/bin/comfy-fetch
RUN chmod 0755 /usr/local/bin/comfy-fetch

# IPAdapter FaceID needs InsightFace (buffalo_l, from the models volume) on onnxruntime with CUDA.
# ComfyUI itself, then each pack at its commit, each with its own requirements.
RUN export http_proxy="${COMFY_BUILD_PROXY}" https_proxy="${COMFY_BUILD_PROXY}" \
    && comfy-fetch https://github.com/comfyanonymous/ComfyUI.git "${COMFYUI_COMMIT}" /opt/ComfyUI \
    && pip install -r /opt/ComfyUI/requirements.txt

WORKDIR /opt/ComfyUI/custom_nodes
RUN export http_proxy="${COMFY_BUILD_PROXY}" https_proxy="${COMFY_BUILD_PROXY}" \
    && comfy-fetch https://github.com/cubiq/ComfyUI_IPAdapter_plus.git "${IPADAPTER_PLUS_COMMIT}" ComfyUI_IPAdapter_plus \
    && comfy-fetch https://github.com/Fannovel16/comfyui_controlnet_aux.git "${CONTROLNET_AUX_COMMIT}" comfyui_controlnet_aux \
    && comfy-fetch https://github.com/cubiq/ComfyUI_essentials.git "${ESSENTIALS_COMMIT}" ComfyUI_essentials \
    && comfy-fetch https://github.com/kijai/ComfyUI-KJNodes.git "${KJNODES_COMMIT}" ComfyUI-KJNodes \
    && for pack in */; do \
         if [ -f "${pack}requirements.txt" ]; then pip install -r "${pack}requirements.txt"; fi; \
       done \
    && pip install insightface==0.7.3 onnxruntime-gpu==1.20.1

COPY comfyui/entrypoint.sh /usr/local/bin/comfy-entrypoint
RUN chmod 0755 /usr/local/bin/comfy-entrypoint \
    && useradd --create-home --uid 1000 comfy \
    && mkdir -p /opt/ComfyUI/models /opt/ComfyUI/input /opt/ComfyUI/output /opt/ComfyUI/temp /opt/ComfyUI/user \
    && chown -R comfy:comfy /opt/ComfyUI
WORKDIR /opt/ComfyUI
USER comfy
EXPOSE 8188
# AUX_ANNOTATOR_CKPTS_PATH: where comfyui_controlnet_aux looks for <repo>/<file> before downloading;
# HF_HUB_OFFLINE: it must not download. InsightFace's buffalo_l: models/insightface/models/buffalo_l.
ENV COMFY_PROXY="" \
    COMFY_PROXY_ENABLED=false \
    COMFY_NO_PROXY="localhost,127.0.0.1,api,db,redis,minio,gpu-runner,render-runner" \
    AUX_ANNOTATOR_CKPTS_PATH=/opt/ComfyUI/models/aux_ckpts \
    HF_HUB_OFFLINE=1 \
    INSIGHTFACE_HOME=/opt/ComfyUI/models/insightface
# Health: GET /system_stats (the compose file and the k8s probes check it).
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/comfy-entrypoint"]
CMD ["--listen", "0.0.0.0", "--port", "8188"]
