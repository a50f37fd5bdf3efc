import { defineConfig } from "vite";

export default defineConfig({
  base: "/",
  build: { outDir: "dist", target: "es2022", chunkSizeWarningLimit: 2000 },
  server: { proxy: { "/api": "http://127.0.0.1:8000" } },
  test: { environment: "node", include: ["src/**/*.test.ts"] },
} as never);
