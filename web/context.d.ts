/** Types for web/context.js, so TypeScript tests can import the page's own module. */
export declare function utf8Bytes(text: string): number;
export type FlatUiState =
  | { readonly attributes: Record<string, string>; readonly removed: string[]; readonly bytes: number }
  | { readonly error: string };
export declare function flattenContext(value: unknown): FlatUiState;
