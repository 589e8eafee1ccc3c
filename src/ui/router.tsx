import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/** Where the dashboard is served; every page's path is below it. */
export const BASE = '/ui/';

const listeners = new Set<() => void>();

/** Goes to a dashboard page without reloading. */
export function navigate(path: string): void {
  if (path !== location.pathname) {
    history.pushState(null, '', path);
  }
  listeners.forEach((listener) => listener());
}

/** The current path below `/ui/`, without leading or trailing slashes (`trainings/<id>`); re-renders on changes. */
export function useRoute(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = (): void => setPath(location.pathname);
    listeners.add(update);
    addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      removeEventListener('popstate', update);
    };
  }, []);
  return path.startsWith(BASE) ? path.slice(BASE.length).replace(/\/+$/, '') : '';
}

/** A link to a dashboard page: an ordinary link (it opens in a new tab too) that a plain click follows in place. */
export function Link(props: { to: string; children: ComponentChildren; class?: string }): JSX.Element {
  const href = `${BASE}${props.to}`;
  const follow = (event: MouseEvent): void => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    event.preventDefault();
    navigate(href);
  };
  return (
    <a href={href} onClick={follow} class={props.class}>
      {props.children}
    </a>
  );
}
