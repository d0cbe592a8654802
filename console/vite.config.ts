import { defineConfig } from "vitest/config";
import react from "@vitejs/plugin-react";

// The build is committed (console/dist) and embedded in the server binary,
// so it must be the same bytes for the same sources: no inlined assets, no
// preload polyfill (it would be the only inline code), stable file names.
export default defineConfig({
  plugins: [react()],
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    chunkSizeWarningLimit: 1024,
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
