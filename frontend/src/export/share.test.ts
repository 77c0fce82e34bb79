import { describe, expect, it } from "vitest";
import { buildShareHtml, scriptJson, utf8ToBase64 } from "./share";

/** The text of the `<script>` whose id is `id` in `html` (the first `</script>` after it ends it, as in HTML). */
function scriptText(html: string, id: string): string {
  const open = html.indexOf(`id="${id}">`);
  if (open < 0) throw new Error(`no script ${id}`);
  const start = open + `id="${id}">`.length;
  return html.slice(start, html.indexOf("</script>", start));
}

/** Base64 of UTF-8 back to text. */
function fromBase64(b64: string): string {
  return new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
}

describe("buildShareHtml", () => {
  const bundle = 'const s = "</script><b>é</b>";\nexport { s as render };\n';
  const snapshot = {
    runs: { runs: [{ run: "</script><script>alert(1)</script>" }] },
    "thumbnail?index=1&run=a": "data:image/png;base64,AA",
  };
  const html = buildShareHtml({
    bundle,
    snapshot,
    hash: "#channelexplorer&p.channelexplorer.run=a",
    title: "A <b> & c",
  });

  it("carries the bundle and the snapshot intact, whatever they contain", () => {
    const b64 = scriptText(html, "ce-bundle").trim();
    expect(fromBase64(b64)).toBe(bundle);
    expect(JSON.parse(scriptText(html, "ce-snapshot"))).toEqual(snapshot);
  });
  it("has no stray script close or markup from the data", () => {
    // Only the three script elements of the file close.
    expect(html.match(/<\/script>/g)).toHaveLength(3);
    expect(html).toContain("<title>A &lt;b&gt; &amp; c</title>");
    expect(html).not.toContain("<script>alert");
  });
  it("validates its inputs", () => {
    expect(() => buildShareHtml({ bundle: "x", snapshot: {}, hash: "#a", title: "" })).toThrow(/render/);
    expect(() => buildShareHtml({ bundle, snapshot: {}, hash: "a", title: "" })).toThrow(/hash must start/);
  });
  it("encodes UTF-8 to base64 (golden), across chunk boundaries (round trip)", () => {
    expect(utf8ToBase64("é€")).toBe("w6nigqw=");
    const big = "é".repeat(0x8000 + 7) + "z";
    expect(fromBase64(utf8ToBase64(big))).toBe(big);
    expect(JSON.parse(scriptJson({ a: "<x>" }))).toEqual({ a: "<x>" });
  });
});

describe("downloadsAllowed", () => {
  const win = (frame: unknown) => ({ frameElement: frame }) as unknown as Window;
  const frame = (sandbox: string | null) => ({
    hasAttribute: () => sandbox !== null,
    getAttribute: () => sandbox,
  });
  it("allows a top window, an unsandboxed frame and a sandbox with allow-downloads only", async () => {
    const { downloadsAllowed } = await import("./download");
    expect(downloadsAllowed(win(null))).toBe(true);
    expect(downloadsAllowed(win(frame(null)))).toBe(true);
    expect(downloadsAllowed(win(frame("allow-scripts allow-downloads")))).toBe(true);
    expect(downloadsAllowed(win(frame("allow-scripts allow-same-origin")))).toBe(false);
  });
});
