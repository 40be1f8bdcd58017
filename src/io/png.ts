// SVG → PNG with resvg (Rust, compiled to wasm). The wasm module and the font are imported as files so
// `bun build --compile` embeds them: the binary draws charts with no node_modules and no system fonts.
import { readFileSync } from "node:fs";
import { initWasm, Resvg } from "@resvg/resvg-wasm";
import resvgWasm from "../../node_modules/@resvg/resvg-wasm/index_bg.wasm" with { type: "file" };
import dejaVuSans from "../../node_modules/dejavu-fonts-ttf/ttf/DejaVuSans.ttf" with { type: "file" };

let ready: Promise<Uint8Array> | null = null;

/** Loads the wasm once per process; returns the font every render needs. */
function init(): Promise<Uint8Array> {
  ready ??= initWasm(readFileSync(resvgWasm)).then(() => new Uint8Array(readFileSync(dejaVuSans)));
  return ready;
}

export const PNG_SIGNATURE = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Rasterises SVG text; `scale` > 1 gives a sharper image of the same layout. */
export async function svgToPng(svg: string, scale = 1): Promise<Uint8Array> {
  const font = await init();
  const renderer = new Resvg(svg, {
    font: { fontBuffers: [font], defaultFontFamily: "DejaVu Sans", sansSerifFamily: "DejaVu Sans" },
    fitTo: scale === 1 ? { mode: "original" } : { mode: "zoom", value: scale },
    background: "#ffffff",
  });
  try {
    const image = renderer.render();
    try {
      return image.asPng();
    } finally {
      image.free();
    }
  } finally {
    renderer.free();
  }
}
