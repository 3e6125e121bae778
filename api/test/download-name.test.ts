import { describe, expect, it } from "vitest";
import { downloadName } from "../src/services/download-name.ts";

// RFC 6266: `filename*` (RFC 5987, UTF-8, percent-encoded) for the real name, `filename` in ASCII.
const parse = (header: string) => ({
  type: header.split(";")[0],
  ascii: /filename="((?:[^"\\]|\\.)*)"/.exec(header)?.[1],
  utf8: decodeURIComponent(/filename\*=UTF-8''([^;]+)/.exec(header)?.[1] ?? ""),
});

describe("downloadName", () => {
  it("names each file after the book and the child, in any script", () => {
    const block = downloadName("Дивокрай", "Олеся", "block.pdf");
    expect(block.name).toBe("Дивокрай — Олеся.pdf");
    expect(parse(block.disposition)).toEqual({ type: "attachment", ascii: "storybook.pdf", utf8: block.name });
    expect(downloadName("Дивокрай", "Олеся", "cover.pdf").name).toBe("Дивокрай — Олеся — cover.pdf");
    expect(downloadName("Дивокрай", "Олеся", "pages.zip").name).toBe("Дивокрай — Олеся — pages.zip");
  });

  it("keeps what ASCII can say in the fallback, accents dropped", () => {
    const { disposition } = downloadName("Zoë's day", "Zoë", "cover.pdf");
    expect(parse(disposition)).toEqual({
      type: "attachment",
      ascii: "Zoe's day - Zoe - cover.pdf",
      utf8: "Zoë's day — Zoë — cover.pdf",
    });
    // The header itself is ASCII only: any HTTP server or store can send it.
    expect(/^[\x20-\x7e]+$/.test(disposition)).toBe(true);
  });

  it("leaves out what no file system takes, and never gives an empty name", () => {
    expect(downloadName('a/b\\c:"d"*?<e>|\u0000f\u202e', null, "block.pdf").name).toBe("a b c d e f.pdf");
    expect(downloadName("   ", "", "pages.zip").name).toBe("storybook — pages.zip");
  });
});
