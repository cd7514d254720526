// The fake Slack Web API is the sandbox's emulator: one implementation for tests and `npm start`.
export * from '../../src/sandbox/slack-emulator.js';
