/** `import path from "….mmdb" with { type: "file" }` gives the file's path (embedded by `bun build --compile`). */
declare module "*.mmdb" {
  const path: string;
  export default path;
}
