// The `models` service's script (compose/models/fetch-models.sh) against a loopback HTTP server:
// hashes verified, corrupt files refused, partial downloads resumed, proxy honoured, local copy.
import { execFile, execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { repoRoot } from "@faceapp/core";
import { parseModelManifest } from "@faceapp/core/comfyui";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const script = path.join(repoRoot, "compose/models/fetch-models.sh");
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

const files: Record<string, Buffer> = {};
const requests: Array<{ url: string; range: string | undefined }> = [];
let server: Server;
let base = "";
beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push({ url: req.url ?? "", range: req.headers.range });
    const name = (req.url ?? "").replace(/^https?:\/\/[^/]+/, "").slice(1);
    const body = files[name];
    if (!body) return void res.writeHead(404).end();
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? "");
    if (range) {
      const from = Number(range[1]);
      res.writeHead(206, {
        "content-range": `bytes ${from}-${body.length - 1}/${body.length}`,
        "content-length": body.length - from,
      });
      return void res.end(body.subarray(from));
    }
    res.writeHead(200, { "content-length": body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** Runs the script with a manifest of `lines` (folder file size sha256 licence url). */
async function fetchModels(lines: string[][], env: Record<string, string> = {}) {
  const dir = await mkdtemp(path.join(tmpdir(), "models-"));
  return runIn(dir, lines, env);
}
async function runIn(dir: string, lines: string[][], env: Record<string, string> = {}) {
  const manifest = path.join(dir, "manifest.tsv");
  await writeFile(manifest, `# test manifest\n${lines.map((l) => [...l, "note"].join("\t")).join("\n")}\n`);
  // Asynchronous: the loopback server answering the script lives in this process.
  const result = await new Promise<{ status: number; out: string }>((resolve) => {
    execFile(
      "sh",
      [script],
      {
        env: { PATH: process.env.PATH, MODELS_DIR: path.join(dir, "models"), MODELS_MANIFEST: manifest, ...env },
        timeout: 20_000,
      },
      (error, stdout, stderr) => resolve({ status: error ? Number(error.code ?? 1) : 0, out: stdout + stderr }),
    );
  });
  return { dir, models: path.join(dir, "models"), ...result };
}

describe("the models service script", () => {
  it("is shellcheck-clean", () => {
    const result = spawnSync("shellcheck", [script], { encoding: "utf8" });
    expect(result.stdout).toBe("");
    expect(result.status).toBe(0);
  });

  it("downloads a file with its hash, and does nothing on a second run", async () => {
    files["tiny.bin"] = Buffer.from("tiny model weights");
    const line = ["checkpoints", "tiny.safetensors", "18", sha(files["tiny.bin"]), "MIT", `${base}/tiny.bin`];
    const first = await fetchModels([line]);
    expect(first.status, first.out).toBe(0);
    expect(await readFile(path.join(first.models, "checkpoints/tiny.safetensors"))).toEqual(files["tiny.bin"]);
    const before = requests.length;
    const again = await runIn(first.dir, [line]);
    expect(again.status).toBe(0);
    expect(again.out).toContain("ok checkpoints/tiny.safetensors");
    expect(requests.length).toBe(before);
  });

  it("refuses a file whose hash does not match, leaving nothing in place", async () => {
    files["corrupt.bin"] = Buffer.from("not what the manifest pinned");
    const line = ["controlnet", "c.pth", "-", sha(Buffer.from("the real bytes")), "MIT", `${base}/corrupt.bin`];
    const run = await fetchModels([line]);
    expect(run.status).toBe(1);
    expect(run.out).toContain("REFUSED controlnet/c.pth");
    expect(existsSync(path.join(run.models, "controlnet/c.pth"))).toBe(false);
    expect(existsSync(path.join(run.models, "controlnet/c.pth.part"))).toBe(false);
  });

  it("resumes a partial download from where it stopped", async () => {
    const whole = Buffer.alloc(64 * 1024, 7);
    whole.write("head", 0);
    files["big.bin"] = whole;
    const dir = await mkdtemp(path.join(tmpdir(), "models-"));
    await mkdir(path.join(dir, "models/loras"), { recursive: true });
    await writeFile(path.join(dir, "models/loras/big.safetensors.part"), whole.subarray(0, 1000));
    const run = await runIn(dir, [
      ["loras", "big.safetensors", String(whole.length), sha(whole), "MIT", `${base}/big.bin`],
    ]);
    expect(run.status, run.out).toBe(0);
    expect(requests.at(-1)).toEqual({ url: "/big.bin", range: "bytes=1000-" });
    expect(await readFile(path.join(dir, "models/loras/big.safetensors"))).toEqual(whole);
  });

  it("goes through COMFY_PROXY", async () => {
    files["proxied.bin"] = Buffer.from("via the proxy");
    const line = [
      "ipadapter",
      "p.bin",
      "-",
      sha(files["proxied.bin"]),
      "MIT",
      "http://models.example.invalid/proxied.bin",
    ];
    const run = await fetchModels([line], { COMFY_PROXY: base });
    expect(run.status, run.out).toBe(0);
    expect(requests.at(-1)!.url).toBe("http://models.example.invalid/proxied.bin");
  });

  it("copies from a local folder instead of downloading, and extracts a zip archive's member", async () => {
    const source = await mkdtemp(path.join(tmpdir(), "models-src-"));
    const onnx = Buffer.from("onnx bytes");
    await writeFile(path.join(source, "w600k_r50.onnx"), onnx);
    const line = [
      "insightface/models/buffalo_l",
      "w600k_r50.onnx",
      "10",
      sha(onnx),
      "research",
      "http://unused.invalid/x",
    ];
    const copied = await fetchModels([line], { MODELS_SOURCE_DIR: source });
    expect(copied.status, copied.out).toBe(0);
    expect(await readFile(path.join(copied.models, "insightface/models/buffalo_l/w600k_r50.onnx"))).toEqual(onnx);

    const zip = path.join(source, "pack.zip");
    execFileSync("python3", [
      "-c",
      `import zipfile; z=zipfile.ZipFile("${zip}","w"); z.writestr("w600k_r50.onnx", "onnx bytes"); z.close()`,
    ]);
    files["pack.zip"] = await readFile(zip);
    const unzipped = await fetchModels([[...line.slice(0, 5), `${base}/pack.zip#w600k_r50.onnx`]]);
    expect(unzipped.status, unzipped.out).toBe(0);
    expect(await readFile(path.join(unzipped.models, "insightface/models/buffalo_l/w600k_r50.onnx"))).toEqual(onnx);
  });

  it("refuses a file the manifest has no hash for, unless told to accept it, and prints the hash", async () => {
    files["new.bin"] = Buffer.from("fresh");
    const line = ["upscale_models", "u.pth", "-", "-", "MIT", `${base}/new.bin`];
    const refused = await fetchModels([line]);
    expect(refused.status).toBe(1);
    expect(refused.out).toContain(`computed: size 5 sha256 ${sha(files["new.bin"])}`);
    const accepted = await fetchModels([line], { MODELS_ALLOW_UNPINNED: "true" });
    expect(accepted.status).toBe(0);
    expect(accepted.out).toContain(`unpinned upscale_models/u.pth size 5 sha256 ${sha(files["new.bin"])}`);
  });

  it("the committed manifest parses, with a source and licence for every file and no made-up hash", async () => {
    const manifest = parseModelManifest(await readFile(path.join(repoRoot, "compose/models/manifest.tsv"), "utf8"));
    expect(manifest.length).toBeGreaterThanOrEqual(15);
    for (const f of manifest) {
      expect(f.url, f.file).toMatch(/^https:\/\//);
      expect(f.licence, f.file).not.toBe("");
      if (f.sha256 === null)
        expect(f.note, f.file).toMatch(
          /not knowable offline|model card|InsightFace|DWPreprocessor|PiDiNet|renamed|matched/,
        );
    }
  });
});
