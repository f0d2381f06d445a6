/** Types for web/safe-url.js, so TypeScript tests can import the page's own module. */
export declare function safeLinkUrl(value: unknown): string | undefined;
