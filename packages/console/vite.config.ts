import { defineConfig } from 'vite';

// The server serves dist/index.html for every /console path and the hashed files under /console/assets/.
export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  base: './',
  build: { target: 'es2020', outDir: 'dist', emptyOutDir: true, modulePreload: false },
});
