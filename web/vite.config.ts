import { defineConfig } from "vite";
import solid from "vite-plugin-solid";

// Development: the api runs on API_URL (default http://localhost:8000) and /api is proxied to it
// with the prefix removed, as nginx does in production.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [solid()],
  server: {
    port: 5173,
    proxy: {
      "/api": {
        target: process.env.API_URL ?? "http://localhost:8000",
        changeOrigin: false,
        rewrite: (path) => path.replace(/^\/api/, ""),
      },
    },
  },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022" },
});
