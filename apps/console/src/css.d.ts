// esbuild bundles the CSS these imports name; TypeScript only needs to know they exist.
declare module "*.css";
