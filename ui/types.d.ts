/** `import text from "….css" with { type: "text" }` gives the stylesheet's text (Bun's text loader). */
declare module "*.css" {
  const text: string;
  export default text;
}
