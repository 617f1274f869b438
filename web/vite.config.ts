import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Built into web/dist, which the Fastify server serves (src/http/web-ui.ts). `npm run dev:web` proxies the API.
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1500 },
  server: {
    proxy: { '/api': 'http://127.0.0.1:8080', '/healthz': 'http://127.0.0.1:8080' },
  },
});
