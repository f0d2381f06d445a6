/** Types for web/genesys-content.js, so TypeScript tests can import the page's own module. */
export declare function contentItem(item: unknown): Record<string, unknown>;
export declare function directionOf(message: unknown): 'guest' | 'agent' | 'bot' | 'system';
export declare function entryOf(message: unknown): Record<string, unknown>;
export declare function isTranscriptLine(message: unknown): boolean;
