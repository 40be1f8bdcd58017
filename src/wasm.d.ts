// Bun's `with { type: "file" }` imports give the file's path (on disk, or inside the compiled binary).
declare module "*.wasm" {
  const path: string;
  export default path;
}
