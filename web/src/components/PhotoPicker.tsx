import { createSignal, type JSX, onCleanup, Show } from "solid-js";
import { useApp } from "../context.tsx";
import { checkPhoto, formatBytes, MAX_PHOTO_BYTES, type PhotoType } from "../lib/photo-check.ts";
import { percentOf, uploadToBucket } from "../lib/upload.ts";

type Phase = "idle" | "chosen" | "uploading" | "checking" | "done";
const phaseText: Partial<Record<Phase, "photo.uploading" | "photo.checking" | "photo.uploaded">> = {
  uploading: "photo.uploading",
  checking: "photo.checking",
  done: "photo.uploaded",
};

/** Choose a photo, check it here, upload it straight to the store with progress, have the api verify it. */
export function PhotoPicker(props: {
  onUploaded: (uploadId: string) => Promise<void> | void;
  label?: string;
}): JSX.Element {
  const { api, t, errorText } = useApp();
  const [file, setFile] = createSignal<File | null>(null);
  const [preview, setPreview] = createSignal<string | null>(null);
  const [problem, setProblem] = createSignal<string | null>(null);
  const [phase, setPhase] = createSignal<Phase>("idle");
  const [percent, setPercent] = createSignal(0);
  const abort = new AbortController();
  let progressBox: HTMLDivElement | undefined;
  onCleanup(() => {
    abort.abort();
    const url = preview();
    if (url) URL.revokeObjectURL(url);
  });

  const choose = (f: File | undefined) => {
    const old = preview();
    if (old) URL.revokeObjectURL(old);
    setPreview(null);
    setFile(null);
    setPhase("idle");
    if (!f) return;
    const issue = checkPhoto(f);
    if (issue) {
      setProblem(
        issue === "too_large"
          ? t("photo.too_large", { size: formatBytes(f.size), max: formatBytes(MAX_PHOTO_BYTES) })
          : t(issue === "type" ? "photo.type" : "photo.empty"),
      );
      return;
    }
    setProblem(null);
    setFile(f);
    setPreview(URL.createObjectURL(f));
    setPhase("chosen");
  };

  const upload = async () => {
    const f = file();
    if (!f) return;
    setProblem(null);
    setPercent(0);
    setPhase("uploading");
    // The button just pressed is gone: focus follows to the progress that replaced it.
    progressBox?.focus();
    try {
      const ticket = await api.call("POST /v1/uploads", {
        body: { contentType: f.type as PhotoType, byteSize: f.size },
      });
      await uploadToBucket(ticket, f, (p) => setPercent(percentOf(p)), abort.signal);
      setPhase("checking");
      const verified = await api.call("POST /v1/uploads/{id}/complete", { params: { id: ticket.id } });
      if (verified.status !== "ready") {
        setProblem(t("photo.rejected", { reason: verified.rejectReason ?? verified.status }));
        setPhase("chosen");
        return;
      }
      setPhase("done");
      await props.onUploaded(ticket.id);
    } catch (err) {
      if (abort.signal.aborted) return;
      setProblem(errorText(err));
      setPhase("chosen");
    }
  };

  const busy = () => phase() === "uploading" || phase() === "checking" || phase() === "done";
  return (
    <div class="photo-picker">
      <label for="photo" class="button">
        {props.label ?? t("photo.choose")}
      </label>
      <input
        id="photo"
        class="visually-hidden"
        type="file"
        accept="image/jpeg,image/png,image/webp"
        disabled={busy()}
        aria-describedby="photo-help photo-problem"
        onChange={(e) => choose(e.currentTarget.files?.[0])}
      />
      <p id="photo-help" class="hint">
        {t("photo.help", { max: formatBytes(MAX_PHOTO_BYTES) })}
      </p>
      <Show when={preview()}>
        {(url) => (
          <figure class="photo-preview">
            <img src={url()} alt={t("photo.preview")} />
            <figcaption>
              {file()?.name} · {formatBytes(file()?.size ?? 0)}
            </figcaption>
          </figure>
        )}
      </Show>
      <p id="photo-problem" class="error" role="alert">
        {problem()}
      </p>
      <Show when={phase() === "chosen"}>
        <button type="button" class="primary" onClick={upload}>
          {t("photo.upload")}
        </button>
      </Show>
      <Show when={busy()}>
        <div class="upload-progress" tabindex="-1" ref={progressBox}>
          <progress id="upload-progress" max="100" value={percent()} aria-label={t("photo.uploading")} />
          <span>
            {phase() === "uploading"
              ? `${t("photo.uploading")} ${percent()}%`
              : phase() === "checking"
                ? t("photo.checking")
                : t("photo.uploaded")}
          </span>
        </div>
      </Show>
      {/* A screen reader hears each step once, not every percent (the bar holds the figure). */}
      <p class="visually-hidden" aria-live="polite" data-testid="upload-announce">
        {phaseText[phase()] ? t(phaseText[phase()]!) : ""}
      </p>
    </div>
  );
}
