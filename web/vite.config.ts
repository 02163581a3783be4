import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Built into web/dist, which wrangler.toml's [assets] serves. In watch mode
// (npm run dev) the directory is kept, so wrangler dev never sees it vanish.
export default defineConfig(({ mode }) => ({
  root: new URL(".", import.meta.url).pathname,
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: mode !== "development",
    sourcemap: mode === "development",
    chunkSizeWarningLimit: 800,
  },
}));
