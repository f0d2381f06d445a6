/** Types for web/upload-refusal.js, so TypeScript tests can import the page's own module. */
export declare function uploadRefusalText(status: number, body: unknown): string;
