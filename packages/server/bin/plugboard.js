#!/usr/bin/env node
// In a checkout the CLI runs the TypeScript sources through tsx, so an edit needs no build; an installed
// package (no src/, no tsx) runs the compiled dist/. `npm start` runs dist/ directly.
import { existsSync } from 'node:fs';

const source = new URL('../src/main.ts', import.meta.url);
let tsx;
if (existsSync(source)) {
  try {
    tsx = await import('tsx/esm/api');
  } catch {
    // A checkout installed without dev dependencies: fall back to the build.
  }
}
if (tsx) {
  tsx.register();
  await import(source.href);
} else {
  await import('../dist/main.js');
}
