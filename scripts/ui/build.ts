import fs from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';

/** The dashboard's sources, and where `npm run build` puts the bundle (the API serves it from there). */
export const UI_SOURCE_DIR = path.resolve(__dirname, '../../src/ui');
export const UI_DIST_DIR = path.resolve(__dirname, '../../dist/ui');

/** What one build wrote, relative to its folder. */
export interface UiBuild {
  readonly script: string;
  readonly stylesheet: string;
}

/**
 * Bundles the dashboard (`src/ui/main.tsx`, with its CSS) into `outDir`: `assets/` holds content-hashed files, so the
 * server may let browsers keep them forever, and `index.html` names them. Replaces whatever `outDir` held.
 */
export async function buildUi(outDir: string = UI_DIST_DIR): Promise<UiBuild> {
  await fs.rm(outDir, { recursive: true, force: true });
  const result = await build({
    entryPoints: [path.join(UI_SOURCE_DIR, 'main.tsx')],
    outdir: outDir,
    entryNames: 'assets/[name]-[hash]',
    assetNames: 'assets/[name]-[hash]',
    bundle: true,
    format: 'esm',
    target: ['es2022'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
    // The tsconfig of src/ui carries the JSX settings for tsc; esbuild gets them above.
    tsconfig: path.join(UI_SOURCE_DIR, 'tsconfig.json'),
  });
  const outputs = Object.keys(result.metafile.outputs).map((file) => path.relative(outDir, path.resolve(file)));
  const script = outputs.find((file) => file.endsWith('.js'));
  const stylesheet = outputs.find((file) => file.endsWith('.css'));
  if (script === undefined || stylesheet === undefined) {
    throw new Error(`The dashboard build wrote no script or no stylesheet: ${outputs.join(', ')}`);
  }
  await fs.writeFile(path.join(outDir, 'index.html'), indexPage(script, stylesheet));
  return { script, stylesheet };
}

/** The one HTML page: no inline script or style, so the server's Content-Security-Policy can forbid both. */
function indexPage(script: string, stylesheet: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Roundhouse</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="/ui/${stylesheet}">
  <script type="module" src="/ui/${script}"></script>
</head>
<body>
  <div id="app"><noscript>The Roundhouse dashboard needs JavaScript.</noscript></div>
</body>
</html>
`;
}

if (require.main === module) {
  buildUi().then(
    (built) => process.stdout.write(`dashboard: ${path.join(UI_DIST_DIR, built.script)}\n`),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
