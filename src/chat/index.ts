// The chat layer's public surface, for the platform adapters and main.
export { createChatService } from './service.ts';
export type { CancelOptions, CancelOutcome, ChatService, ChatServiceDeps, ChatEvent, ChatStats, SubmitOptions } from './service.ts';
export { chatLimitsFromEnv, DEFAULT_CHAT_LIMITS, type ChatLimits } from './limits.ts';
export { openSessionStore, type SessionStore, type SessionRecord, type SessionStatus } from './store.ts';
export { reduceThreadView, initialThreadView, isFinal, type ViewEvent } from './view.ts';
export { buildAnswerView, domainOf } from './citations.ts';
export { splitMessage, trimObservation } from './text.ts';
export * from './messages.ts';
export type * from './types.ts';
