# ComfyUI with the custom node packs the face workflow needs (docs/comfyui-protocol.md), every repository at
# a pinned commit. Build-time proxy: COMFY_BUILD_PROXY (git clone and pip); run-time proxy:
# COMFY_PROXY, used only when COMFY_PROXY_ENABLED=true, with COMFY_NO_PROXY as its exceptions.
# Build context: compose/ (docker build -f compose/comfyui.Dockerfile compose).
# Models are not baked in: they live in the models_cache volume mounted at /opt/ComfyUI/models.
FROM pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime

ARG COMFY_BUILD_PROXY=""
ARG COMFYUI_COMMIT=5fe9d9c1d76e6789bee02c69ff161c9a0addf4cc
ARG IPADAPTER_PLUS_COMMIT=b103c6740f17745b7a550fc35d89baa0b0fe68d1
ARG IMPACT_PACK_COMMIT=a9440d63ec9c0a0db8e8374e9f50e9c440c68ec2
ARG ADVANCED_CONTROLNET_COMMIT=55c6889b3b82e8aa826436e08ae2fd8fbda554c0
ARG CONTROLNET_AUX_COMMIT=3b3532feb29e1ad551c3e44153482388414ecb96
ARG WAS_NODE_SUITE_COMMIT=d73c0d1d1261d2f9d98b6498374426649909e69e
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

# IPAdapter FaceID needs InsightFace (buffalo_l, mounted read-only) on onnxruntime with CUDA.
# ComfyUI itself, then each pack at its commit, each with its own requirements.
RUN export http_proxy="${COMFY_BUILD_PROXY}" https_proxy="${COMFY_BUILD_PROXY}" \
    && comfy-fetch https://github.com/comfyanonymous/ComfyUI.git "${COMFYUI_COMMIT}" /opt/ComfyUI \
    && pip install -r /opt/ComfyUI/requirements.txt

WORKDIR /opt/ComfyUI/custom_nodes
RUN export http_proxy="${COMFY_BUILD_PROXY}" https_proxy="${COMFY_BUILD_PROXY}" \
    && comfy-fetch https://github.com/cubiq/ComfyUI_IPAdapter_plus.git "${IPADAPTER_PLUS_COMMIT}" ComfyUI_IPAdapter_plus \
    && comfy-fetch https://github.com/ltdrdata/ComfyUI-Impact-Pack.git "${IMPACT_PACK_COMMIT}" ComfyUI-Impact-Pack \
    && comfy-fetch https://github.com/Kosinkadink/ComfyUI-Advanced-ControlNet.git "${ADVANCED_CONTROLNET_COMMIT}" ComfyUI-Advanced-ControlNet \
    && comfy-fetch https://github.com/Fannovel16/comfyui_controlnet_aux.git "${CONTROLNET_AUX_COMMIT}" comfyui_controlnet_aux \
    && comfy-fetch https://github.com/WASasquatch/was-node-suite-comfyui.git "${WAS_NODE_SUITE_COMMIT}" was-node-suite-comfyui \
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
ENV COMFY_PROXY="" \
    COMFY_PROXY_ENABLED=false \
    COMFY_NO_PROXY="localhost,127.0.0.1,api,db,redis,minio,gpu-runner,render-runner" \
    INSIGHTFACE_HOME=/opt/ComfyUI/models/insightface
# Health: GET /system_stats (the compose file and the k8s probes check it).
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/comfy-entrypoint"]
CMD ["--listen", "0.0.0.0", "--port", "8188"]
