import { defineConfig } from 'vite';

// One self-contained, minified ES module: the server serves it to the hosted page and embedders load it
// by URL. (Built as an app entry rather than in library mode, which leaves ES output unminified.)
export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    target: 'es2020',
    outDir: 'dist',
    emptyOutDir: true,
    modulePreload: false,
    rollupOptions: {
      input: 'src/index.ts',
      preserveEntrySignatures: 'exports-only',
      output: { format: 'es', entryFileNames: 'plugboard-hub.js', inlineDynamicImports: true },
    },
  },
});
