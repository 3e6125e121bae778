// The model manifest (compose/models/manifest.tsv): every file the face workflow and its node packs
// read, with where it goes under ComfyUI's models/ folder. The models service downloads from it, the
// start-up check and `comfy:check` compare a server's lists with it, the fixture's lists come from it.

export interface ModelFile {
  /** The sub-folder of models/, e.g. "checkpoints" or "insightface/models/buffalo_l". */
  folder: string;
  file: string;
  /** Bytes and sha256, or null where they were not known when the manifest was written (see `note`). */
  size: number | null;
  sha256: string | null;
  licence: string;
  url: string;
  note: string;
}

/** Parses the manifest: comment lines start with #, fields are tab-separated, "-" is unknown. */
export function parseModelManifest(text: string): ModelFile[] {
  const files: ModelFile[] = [];
  for (const [i, line] of text.split("\n").entries()) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const f = line.split("\t");
    if (f.length < 6) throw new Error(`model manifest line ${i + 1}: expected 7 tab-separated fields`);
    const [folder, file, size, sha256, licence, url, note = ""] = f as [
      string,
      string,
      string,
      string,
      string,
      string,
      string?,
    ];
    if (sha256 !== "-" && !/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`model manifest line ${i + 1}: bad sha256`);
    files.push({
      folder,
      file,
      size: size === "-" ? null : Number(size),
      sha256: sha256 === "-" ? null : sha256,
      licence,
      url,
      note,
    });
  }
  return files;
}

/** File names per models folder, as ComfyUI's `folder_paths.get_filename_list` would list them. */
export function filesByFolder(files: ModelFile[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const f of files) out[f.folder] = [...(out[f.folder] ?? []), f.file];
  return out;
}
