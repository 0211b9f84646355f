// The web console's build: web/ bundled by Vite (Preact) into dist/console/, which `winsmith
// server` serves at / (src/server/console.ts). Nothing inline: the server's Content-Security-Policy
// allows scripts and styles from the server's own files only.
import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

export default defineConfig({
  plugins: [preact()],
  base: '/',
  build: {
    outDir: '../dist/console',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
