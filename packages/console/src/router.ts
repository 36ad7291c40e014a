import { useEffect, useState } from 'preact/hooks';

/** Views have real URLs under /console/ (the server answers every one of them with the app). */
const root = new URL('./', document.baseURI).pathname;

export const currentPath = () => `/${location.pathname.slice(root.length)}`.replace(/\/+$/, '') || '/';

export function href(path: string): string {
  return root + path.replace(/^\//, '');
}

export function navigate(path: string, replace = false): void {
  const url = href(path);
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  window.dispatchEvent(new Event('plugboard:navigate'));
}

export function usePath(): string {
  const [path, setPath] = useState(currentPath);
  useEffect(() => {
    const update = () => setPath(currentPath());
    window.addEventListener('popstate', update);
    window.addEventListener('plugboard:navigate', update);
    return () => {
      window.removeEventListener('popstate', update);
      window.removeEventListener('plugboard:navigate', update);
    };
  }, []);
  return path;
}

/** Matches '/p/:projectId/accounts/:id' style patterns; undefined when the path does not fit. */
export function match(pattern: string, path: string): Record<string, string> | undefined {
  const a = pattern.split('/').filter(Boolean);
  const b = path.split('/').filter(Boolean);
  if (a.length !== b.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.startsWith(':')) params[a[i]!.slice(1)] = decodeURIComponent(b[i]!);
    else if (a[i] !== b[i]) return undefined;
  }
  return params;
}
