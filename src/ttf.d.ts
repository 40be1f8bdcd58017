// Bun's `with { type: "file" }` imports of fonts give the file's path (on disk, or inside the compiled binary).
declare module "*.ttf" {
  const path: string;
  export default path;
}
