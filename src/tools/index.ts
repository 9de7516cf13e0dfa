// Public face of the web tools: search providers, the page visitor and the text extractor.
export { createSearchProvider, formatSearchResults, type SearchOptions, type Backend } from './search/index.ts';
export { createWebVisitor, formatVisitedPage, formatVisitError, type WebVisitor, type WebVisitorOptions } from './visit.ts';
export { extractReadable, type Readable } from './extract/index.ts';
export { ToolError, type SearchProvider, type SearchResult, type VisitedPage } from './types.ts';
